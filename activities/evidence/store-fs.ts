import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { lstat, mkdir, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const { O_RDONLY, O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fsConstants;

const LOCK_WAIT_MS = 10_000;
const LOCK_STALE_MS = 60_000;
const LOCK_RETRY_MS = 20;
const READ_CHUNK_BYTES = 64 * 1024;

/** True when `error` carries the system error `code`. Checked by shape: jest's sandbox breaks `instanceof Error`. */
export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

/**
 * Failure raised when the store's files are not what the store wrote: an object whose bytes do not match its
 * address, or a symbolic link inside the store. Retrying cannot help, so it is not retryable.
 */
export function storeCorrupt(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'EvidenceStoreCorrupt', nonRetryable: true });
}

/** True for a failure made by `storeCorrupt`, checked by shape like `isErrno`. */
export function isStoreCorrupt(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'type' in error && error.type === 'EvidenceStoreCorrupt';
}

async function assertDirectory(directory: string): Promise<void> {
  const info = await lstat(directory);
  if (info.isSymbolicLink()) {
    throw storeCorrupt(`${directory} is a symbolic link; the evidence store follows none: replace it with a directory`);
  }
  if (!info.isDirectory()) throw storeCorrupt(`${directory} is not a directory; move it out of the evidence store`);
}

/** Mode of the directories that the store creates: evidence may hold secrets, so only the owner may list it. */
export const STORE_DIRECTORY_MODE = 0o700;

/**
 * Creates the directories `parts` below `root` and checks each with lstat, so that a symbolic link planted in
 * the store cannot send writes elsewhere. A missing root is created with its missing parents, each with mode
 * 0700; an existing root keeps its mode. The root itself may be a link, because operators choose it.
 */
export async function ensureDirectories(root: string, parts: string[]): Promise<string> {
  await mkdir(root, { recursive: true, mode: STORE_DIRECTORY_MODE });
  let current = root;
  for (const part of parts) {
    current = path.join(current, part);
    await mkdir(current, STORE_DIRECTORY_MODE).catch((error: unknown) => {
      if (!isErrno(error, 'EEXIST')) throw error;
    });
    await assertDirectory(current);
  }
  return current;
}

/** Checks that the existing directories `parts` below `root` are real directories; a missing one throws ENOENT. */
export async function checkDirectories(root: string, parts: string[]): Promise<void> {
  let current = root;
  for (const part of parts) {
    current = path.join(current, part);
    await assertDirectory(current);
  }
}

/** Names the kind of a file that is not a regular file, for messages. */
function fileKind(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  if (info.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/**
 * Opens a regular file for reading without following a symbolic link in its last component. O_NONBLOCK keeps
 * the open of a FIFO from waiting for a writer. Anything but a regular file is rejected before the first read,
 * so a FIFO or a device planted in place of a file cannot stall or flood the reader.
 */
export async function openForReading(filePath: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(filePath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if (isErrno(error, 'ELOOP')) throw storeCorrupt(`${filePath} is a symbolic link, not a stored file`);
    throw error;
  }
  const info = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  if (!info.isFile()) {
    await handle.close();
    throw storeCorrupt(`${filePath} is ${fileKind(info)}, not a regular file: remove it and restore the stored file`);
  }
  return handle;
}

/**
 * Reads a regular file of at most `maxBytes` as UTF-8 text, without following a symbolic link in its last
 * component. A larger file is rejected before it is read.
 */
export async function readRegularText(filePath: string, maxBytes: number): Promise<string> {
  const handle = await openForReading(filePath);
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) {
      throw new Error(
        `${filePath} has ${size} bytes, more than the maximum of ${maxBytes}: check that it is the right file`,
      );
    }
    const buffer = Buffer.alloc(maxBytes + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, total, buffer.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw new Error(`${filePath} grew past the maximum of ${maxBytes} bytes while being read`);
    }
    return buffer.subarray(0, total).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Opens a file for appending, creating it, without following a symbolic link in its last component. */
export async function openForAppend(filePath: string): Promise<FileHandle> {
  try {
    return await open(filePath, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o644);
  } catch (error) {
    if (isErrno(error, 'ELOOP')) throw storeCorrupt(`${filePath} is a symbolic link; replace it with the real file`);
    throw error;
  }
}

/** Reads a whole text file without following links, or returns an empty string when it does not exist. */
export async function readTextOrEmpty(filePath: string): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await openForReading(filePath);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return '';
    throw error;
  }
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Yields the bytes of a file opened with `openForReading`, in chunks. */
export async function* readChunks(filePath: string): AsyncGenerator<Buffer> {
  const handle = await openForReading(filePath);
  try {
    for (;;) {
      const buffer = Buffer.alloc(READ_CHUNK_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** SHA-256 and size of a file, read without following a symbolic link. */
export async function hashFile(filePath: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of readChunks(filePath)) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Takes a lock file with O_EXCL; a lock older than LOCK_STALE_MS is taken to belong to a dead process. */
export async function acquireLock(lockPath: string): Promise<() => Promise<void>> {
  const startedMs = Date.now();
  for (;;) {
    try {
      // O_CREAT with O_EXCL fails on any existing path, a symbolic link included.
      const handle = await open(lockPath, 'wx');
      await handle.write(`${process.pid}\n`);
      await handle.close();
      return () => unlink(lockPath).catch(() => undefined);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
    }
    const lockStat = await stat(lockPath).catch(() => undefined);
    if (lockStat && Date.now() - lockStat.mtimeMs > LOCK_STALE_MS) {
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (Date.now() - startedMs > LOCK_WAIT_MS) {
      throw new Error(
        `timed out after ${LOCK_WAIT_MS} ms waiting for lock ${lockPath}; remove it if no collector runs`,
      );
    }
    await sleep(LOCK_RETRY_MS);
  }
}
