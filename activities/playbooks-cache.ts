import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Playbook } from '../domain/playbook';

/** Outcome of loading a playbook directory: every playbook valid, or the reason the directory is invalid. */
export type PlaybookLoad = { playbooks: Playbook[]; problem?: undefined } | { playbooks: []; problem: string };

export interface PlaybookCacheOptions {
  directory: string;
  /** Reads and validates the directory; it must return `problem` instead of throwing when a playbook is invalid. */
  load: (directory: string) => Promise<PlaybookLoad>;
  /** Age after which the directory is loaded again even when its signature is unchanged. */
  maxAgeMs?: number;
  nowMs?: () => number;
}

/** One minute: a change that the signature misses applies to incidents that start at most this long after it. */
export const DEFAULT_PLAYBOOK_CACHE_MAX_AGE_MS = 60_000;

interface CacheEntry {
  signature: string;
  loadedAtMs: number;
  load: Promise<PlaybookLoad>;
}

/**
 * Keeps the last load of a playbook directory and serves it while the directory's signature is unchanged.
 * The signature lists each playbook file's name, inode, size, modification and change times (nanoseconds),
 * read through symbolic links, so an edit, a rename or a ConfigMap volume swapping its `..data` link all
 * change it. Concurrent callers with the same signature share one load. The cached outcome is the whole
 * validation result, so an invalid directory keeps yielding its problem until a file changes.
 */
export class PlaybookCache {
  private entry: CacheEntry | undefined;
  private readonly maxAgeMs: number;
  private readonly nowMs: () => number;

  constructor(private readonly options: PlaybookCacheOptions) {
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_PLAYBOOK_CACHE_MAX_AGE_MS;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Returns the playbooks of the directory as they are now, loading them again only when it changed. */
  async get(): Promise<PlaybookLoad> {
    // The signature is read before the load, so a change during the load leaves a stale signature behind
    // and the next call loads again.
    const signature = await directorySignature(this.options.directory);
    const now = this.nowMs();
    const entry = this.entry;
    if (entry !== undefined && entry.signature === signature && now - entry.loadedAtMs < this.maxAgeMs) {
      return entry.load;
    }
    const load = this.options.load(this.options.directory);
    this.entry = { signature, loadedAtMs: now, load };
    return load;
  }
}

/** Builds a string that changes whenever a playbook file of the directory is added, removed or rewritten. */
export async function directorySignature(directory: string): Promise<string> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    return `directory unreadable: ${errorCode(error)}`;
  }
  const playbookNames = names.filter((name) => !name.startsWith('.') && /\.ya?ml$/.test(name)).sort();
  const parts = await Promise.all(playbookNames.map((name) => fileSignature(path.join(directory, name))));
  return parts.join('\n');
}

async function fileSignature(file: string): Promise<string> {
  try {
    const info = await stat(file, { bigint: true });
    return `${file} ${info.ino} ${info.size} ${info.mtimeNs} ${info.ctimeNs}`;
  } catch (error) {
    return `${file} ${errorCode(error)}`;
  }
}

function errorCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return typeof code === 'string' ? code : String(error);
}
