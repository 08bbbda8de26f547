import { createHash, randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, copyFile, link, lstat, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  acquireLock,
  checkDirectories,
  ensureDirectories,
  hashFile,
  isErrno,
  openForAppend,
  readChunks,
  readTextOrEmpty,
  storeCorrupt,
} from './store-fs';

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
 * one append-only custody manifest per incident, and one append-only log of chain heads per incident.
 *
 * NOTE: only the local directory store exists. S3-compatible object storage is not implemented.
 */
export interface EvidenceStore {
  /** Human-readable location of the store, for messages and manifests. */
  readonly location: string;
  /**
   * Streams `source` into the store while hashing it. An object already at the address is kept; it fails with
   * `EvidenceStoreCorrupt` when that object's bytes do not hash to its address.
   */
  put(source: ByteSource, options?: PutOptions): Promise<StoredObject>;
  /** Opens a stored object; the stream fails with ENOENT when it is missing and `EvidenceStoreCorrupt` on a link. */
  read(sha256: string): Readable;
  /** Size in bytes of a stored object, or undefined when it is missing. */
  size(sha256: string): Promise<number | undefined>;
  /** Path or URI of the manifest of `incidentId`. */
  manifestLocation(incidentId: string): string;
  /** The manifest text of `incidentId`, or an empty string before the first entry. */
  readManifest(incidentId: string): Promise<string>;
  /** Appends the line that `buildLine` makes from the current manifest text, holding the incident's lock. */
  appendManifest(incidentId: string, buildLine: (current: string) => string): Promise<void>;
  /** Path or URI of the head log of `incidentId`. */
  headLogLocation(incidentId: string): string;
  /** The head log text of `incidentId`, or an empty string before the first collection run. */
  readHeadLog(incidentId: string): Promise<string>;
  /**
   * Appends the line that `buildLine` makes from the current manifest text to the head log, holding the lock.
   * Nothing is appended when `buildLine` returns undefined.
   */
  appendHeadLog(incidentId: string, buildLine: (manifest: string) => string | undefined): Promise<void>;
}

const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const INCIDENT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Throws unless `sha256` is 64 lowercase hex digits, so a manifest value can never name another path. */
export function assertSha256(sha256: string): void {
  if (!SHA256_PATTERN.test(sha256)) {
    throw new Error(`invalid SHA-256 "${sha256.slice(0, 80)}": expected 64 lowercase hex digits`);
  }
}

export function isIncidentId(incidentId: string): boolean {
  return INCIDENT_ID_PATTERN.test(incidentId);
}

export function assertIncidentId(incidentId: string): void {
  if (!isIncidentId(incidentId)) {
    throw new Error(
      `invalid incident id "${incidentId.slice(0, 80)}": expected lowercase letters, digits and dashes, at most 63`,
    );
  }
}

/** Returns the store root: `FIREBREAK_EVIDENCE_DIR`, else `.data/evidence` under the working directory. */
export function defaultEvidenceDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.FIREBREAK_EVIDENCE_DIR || '.data/evidence');
}

/**
 * Evidence store in a local directory: `objects/sha256/ab/cdef…`, `incidents/ID/custody.jsonl` and
 * `anchors/ID.log`. Symbolic links inside the root are never followed: directories are checked with lstat
 * and files are opened with O_NOFOLLOW.
 */
export class LocalEvidenceStore implements EvidenceStore {
  readonly location: string;

  constructor(readonly root: string) {
    this.location = path.resolve(root);
  }

  objectPath(sha256: string): string {
    return path.join(this.location, ...objectParts(sha256));
  }

  async put(source: ByteSource, options: PutOptions = {}): Promise<StoredObject> {
    const tmpDir = await ensureDirectories(this.location, ['tmp']);
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
    const parts = objectParts(sha256);
    const location = this.location;
    async function* chunks() {
      await checkDirectories(location, parts.slice(0, -1));
      yield* readChunks(path.join(location, ...parts));
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  async size(sha256: string): Promise<number | undefined> {
    const parts = objectParts(sha256);
    try {
      await checkDirectories(this.location, parts.slice(0, -1));
      const info = await lstat(path.join(this.location, ...parts));
      if (info.isSymbolicLink()) throw storeCorrupt(`stored object ${sha256} is a symbolic link`);
      return info.size;
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
    return this.readBelow(['incidents', incidentId], this.manifestLocation(incidentId));
  }

  async appendManifest(incidentId: string, buildLine: (current: string) => string): Promise<void> {
    await this.withIncidentLock(incidentId, async () => {
      const line = buildLine(await this.readManifest(incidentId));
      await appendLine(this.manifestLocation(incidentId), line);
    });
  }

  headLogLocation(incidentId: string): string {
    assertIncidentId(incidentId);
    return path.join(this.location, 'anchors', `${incidentId}.log`);
  }

  async readHeadLog(incidentId: string): Promise<string> {
    return this.readBelow(['anchors'], this.headLogLocation(incidentId));
  }

  async appendHeadLog(incidentId: string, buildLine: (manifest: string) => string | undefined): Promise<void> {
    await ensureDirectories(this.location, ['anchors']);
    await this.withIncidentLock(incidentId, async () => {
      const line = buildLine(await this.readManifest(incidentId));
      if (line !== undefined) await appendLine(this.headLogLocation(incidentId), line);
    });
  }

  private async readBelow(directories: string[], filePath: string): Promise<string> {
    try {
      await checkDirectories(this.location, directories);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return '';
      throw error;
    }
    return readTextOrEmpty(filePath);
  }

  /** Runs `work` holding the lock of the incident's manifest, which orders every manifest and head log write. */
  private async withIncidentLock(incidentId: string, work: () => Promise<void>): Promise<void> {
    assertIncidentId(incidentId);
    const directory = await ensureDirectories(this.location, ['incidents', incidentId]);
    const release = await acquireLock(path.join(directory, 'custody.jsonl.lock'));
    try {
      await work();
    } finally {
      await release();
    }
  }

  /** Moves a finished temporary file to its address without replacing an object already there. */
  private async publish(tmpPath: string, sha256: string): Promise<void> {
    const parts = objectParts(sha256);
    await ensureDirectories(this.location, parts.slice(0, -1));
    const finalPath = path.join(this.location, ...parts);
    await chmod(tmpPath, 0o444);
    try {
      await link(tmpPath, finalPath);
      return;
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return checkExisting(finalPath, sha256);
      if (!isErrno(error, 'EPERM') && !isErrno(error, 'ENOTSUP')) throw error;
    }
    // Filesystems without hard links: an exclusive copy still never replaces an existing object.
    try {
      await copyFile(tmpPath, finalPath, fsConstants.COPYFILE_EXCL);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
      await checkExisting(finalPath, sha256);
    }
  }
}

function objectParts(sha256: string): string[] {
  assertSha256(sha256);
  return ['objects', 'sha256', sha256.slice(0, 2), sha256.slice(2)];
}

/** Fails with `EvidenceStoreCorrupt` unless the object already at `finalPath` is a regular file of hash `sha256`. */
async function checkExisting(finalPath: string, sha256: string): Promise<void> {
  const info = await lstat(finalPath);
  if (!info.isFile()) {
    throw storeCorrupt(
      `stored object ${sha256} is not a regular file: the store was altered; preserve it and investigate`,
    );
  }
  const actual = await hashFile(finalPath);
  if (actual.sha256 !== sha256) {
    throw storeCorrupt(
      `stored object ${sha256} is corrupt: its bytes hash to ${actual.sha256}. Preserve the store and find out who altered it`,
    );
  }
}

async function appendLine(filePath: string, line: string): Promise<void> {
  const file = await openForAppend(filePath);
  try {
    await file.write(`${line}\n`);
    await file.sync();
  } finally {
    await file.close();
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

/** Re-reads a stored object and returns the SHA-256 and size of its current bytes. */
export async function hashStoredObject(
  store: EvidenceStore,
  sha256: string,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of store.read(sha256)) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    hash.update(buffer);
    bytes += buffer.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

export { isErrno, isStoreCorrupt } from './store-fs';
