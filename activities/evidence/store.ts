import { createHash, randomUUID } from 'node:crypto';
import { constants as fsConstants, createReadStream } from 'node:fs';
import { chmod, copyFile, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** Result of storing one object: its address, the bytes kept and whether the source had more. */
export interface StoredObject {
  sha256: string;
  bytes: number;
  /** True when the source had more than `maxBytes` and the object keeps only the first `maxBytes`. */
  truncated: boolean;
}

/** Bytes to store: a stream, an async generator, or an in-memory list of chunks. */
export type ByteSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

export interface PutOptions {
  /** Bytes kept at most; the rest of the source is not read. */
  maxBytes?: number;
}

/**
 * Storage for evidence: objects addressed by the SHA-256 of their bytes, written once and never replaced,
 * plus one append-only custody manifest per incident.
 *
 * NOTE: only the local directory store exists. S3-compatible object storage is not implemented.
 */
export interface EvidenceStore {
  /** Human-readable location of the store, for messages and manifests. */
  readonly location: string;
  /** Streams `source` into the store while hashing it; an object with the same hash is kept as it is. */
  put(source: ByteSource, options?: PutOptions): Promise<StoredObject>;
  /** Opens a stored object; the stream fails with ENOENT when it is missing. */
  read(sha256: string): Readable;
  /** Size in bytes of a stored object, or undefined when it is missing. */
  size(sha256: string): Promise<number | undefined>;
  /** Path or URI of the manifest of `incidentId`. */
  manifestLocation(incidentId: string): string;
  /** The manifest text of `incidentId`, or an empty string before the first entry. */
  readManifest(incidentId: string): Promise<string>;
  /** Appends the line that `buildLine` makes from the current manifest text, holding the incident's lock. */
  appendManifest(incidentId: string, buildLine: (current: string) => string): Promise<void>;
}

const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const INCIDENT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const LOCK_WAIT_MS = 10_000;
const LOCK_STALE_MS = 60_000;
const LOCK_RETRY_MS = 20;

/** Throws unless `sha256` is 64 lowercase hex digits, so a manifest value can never name another path. */
export function assertSha256(sha256: string): void {
  if (!SHA256_PATTERN.test(sha256)) {
    throw new Error(`invalid SHA-256 "${sha256.slice(0, 80)}": expected 64 lowercase hex digits`);
  }
}

export function assertIncidentId(incidentId: string): void {
  if (!INCIDENT_ID_PATTERN.test(incidentId)) {
    throw new Error(
      `invalid incident id "${incidentId.slice(0, 80)}": expected lowercase letters, digits and dashes, at most 63`,
    );
  }
}

/** Returns the store root: `FIREBREAK_EVIDENCE_DIR`, else `.data/evidence` under the working directory. */
export function defaultEvidenceDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.FIREBREAK_EVIDENCE_DIR || '.data/evidence');
}

/** Evidence store in a local directory: `objects/sha256/ab/cdef…` and `incidents/ID/custody.jsonl`. */
export class LocalEvidenceStore implements EvidenceStore {
  readonly location: string;

  constructor(readonly root: string) {
    this.location = path.resolve(root);
  }

  objectPath(sha256: string): string {
    assertSha256(sha256);
    return path.join(this.location, 'objects', 'sha256', sha256.slice(0, 2), sha256.slice(2));
  }

  async put(source: ByteSource, options: PutOptions = {}): Promise<StoredObject> {
    const tmpDir = path.join(this.location, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmpPath = path.join(tmpDir, `${randomUUID()}.part`);
    try {
      const written = await writeHashed(tmpPath, source, options.maxBytes ?? Number.POSITIVE_INFINITY);
      await this.publish(tmpPath, written.sha256);
      return written;
    } finally {
      await unlink(tmpPath).catch(() => undefined);
    }
  }

  read(sha256: string): Readable {
    return createReadStream(this.objectPath(sha256));
  }

  async size(sha256: string): Promise<number | undefined> {
    try {
      return (await stat(this.objectPath(sha256))).size;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  manifestLocation(incidentId: string): string {
    assertIncidentId(incidentId);
    return path.join(this.location, 'incidents', incidentId, 'custody.jsonl');
  }

  async readManifest(incidentId: string): Promise<string> {
    try {
      return await readFile(this.manifestLocation(incidentId), 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return '';
      throw error;
    }
  }

  async appendManifest(incidentId: string, buildLine: (current: string) => string): Promise<void> {
    const manifestPath = this.manifestLocation(incidentId);
    await mkdir(path.dirname(manifestPath), { recursive: true });
    const release = await acquireLock(`${manifestPath}.lock`);
    try {
      const line = buildLine(await this.readManifest(incidentId));
      const file = await open(manifestPath, 'a', 0o644);
      try {
        await file.write(`${line}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
    } finally {
      await release();
    }
  }

  /** Moves a finished temporary file to its address without replacing an object already there. */
  private async publish(tmpPath: string, sha256: string): Promise<void> {
    const finalPath = this.objectPath(sha256);
    await mkdir(path.dirname(finalPath), { recursive: true });
    await chmod(tmpPath, 0o444);
    try {
      await link(tmpPath, finalPath);
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return;
      if (!isErrno(error, 'EPERM') && !isErrno(error, 'ENOTSUP')) throw error;
      // Filesystems without hard links: an exclusive copy still never replaces an existing object.
      await copyFile(tmpPath, finalPath, fsConstants.COPYFILE_EXCL).catch((copyError: unknown) => {
        if (!isErrno(copyError, 'EEXIST')) throw copyError;
      });
    }
  }
}

async function writeHashed(filePath: string, source: ByteSource, maxBytes: number): Promise<StoredObject> {
  const hash = createHash('sha256');
  const file = await open(filePath, 'wx', 0o600);
  let bytes = 0;
  let truncated = false;
  try {
    for await (const chunk of source) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
      const room = maxBytes - bytes;
      const kept = buffer.length > room ? buffer.subarray(0, room) : buffer;
      if (kept.length > 0) {
        hash.update(kept);
        await file.write(kept);
        bytes += kept.length;
      }
      if (kept.length < buffer.length) {
        truncated = true;
        break;
      }
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return { sha256: hash.digest('hex'), bytes, truncated };
}

/** Takes a lock file with O_EXCL; a lock older than LOCK_STALE_MS is taken to belong to a dead process. */
async function acquireLock(lockPath: string): Promise<() => Promise<void>> {
  const startedMs = Date.now();
  for (;;) {
    try {
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

/** True when `error` carries the system error `code`. Checked by shape: jest's sandbox breaks `instanceof Error`. */
export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

/** Re-reads a stored object and returns the SHA-256 and size of its current bytes. */
export async function hashStoredObject(
  store: EvidenceStore,
  sha256: string,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of store.read(sha256)) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    bytes += buffer.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
