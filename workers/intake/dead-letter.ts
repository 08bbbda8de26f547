import { createHash, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { BodyIssue } from '../../domain/parsers/common';
import { cutToBytes } from './archive';

/** Reason the intake did not store a body (or part of one). */
export type DeadLetterReason =
  'invalid_body' | 'too_large' | 'unsupported_media_type' | 'resolved_without_incident' | 'internal_error';

/** One dead-letter record as the caller gives it: what arrived, when, and why it was not stored. */
export interface DeadLetterRecord {
  reason: DeadLetterReason;
  message: string;
  route: string;
  requestId: string;
  receivedAt: string;
  contentType?: string;
  contentLength?: string;
  remoteAddress?: string;
  issues?: BodyIssue[];
  alertIds?: string[];
  /** The body text; absent when the body was not read. */
  body?: string;
}

/** Bytes of a rejected body that a record keeps; the rest is described by its size and SHA-256. */
export const maxDeadLetterBodyBytes = 64 * 1024;

/**
 * The stored form of a body: its first `maxDeadLetterBodyBytes` bytes, as text when it has no control
 * characters (so JSON escapes cannot blow up the file) and else base64, plus the size and SHA-256 of the
 * whole body. Every field is computed after the intake token is replaced by `[redacted]`.
 */
export interface StoredBody {
  body?: string;
  bodyBase64?: string;
  bodyBytes: number;
  bodySha256: string;
  bodyTruncated: boolean;
}

const redactedMarker = '[redacted]';

const tab = 0x09;
const lineFeed = 0x0a;
const carriageReturn = 0x0d;
const deleteCharacter = 0x7f;
const replacementCharacter = 0xfffd;

/**
 * True when the text has no control character other than tab, line feed and carriage return, no U+FFFD (the
 * decoder's stand-in for invalid UTF-8) and no lone surrogate, so its JSON string form stays close to its size.
 */
function isPrintable(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const control = code < 0x20 && code !== tab && code !== lineFeed && code !== carriageReturn;
    if (control || code === deleteCharacter || code === replacementCharacter) {
      return false;
    }
  }
  return !/\p{Cs}/u.test(text);
}

/** Returns the stored form of a body (see `StoredBody`). */
export function storedBodyOf(text: string): StoredBody {
  const bytes = Buffer.byteLength(text, 'utf8');
  const head = cutToBytes(text, maxDeadLetterBodyBytes);
  const summary = {
    bodyBytes: bytes,
    bodySha256: createHash('sha256').update(text, 'utf8').digest('hex'),
    bodyTruncated: head.length < text.length,
  };
  return isPrintable(head)
    ? { body: head, ...summary }
    : { bodyBase64: Buffer.from(head, 'utf8').toString('base64'), ...summary };
}

/**
 * Writes dead-letter records as one JSON file each (mode 0600) into a directory, and logs each one. A record
 * never contains the intake token. Unauthenticated requests are logged but never written, so they cannot fill
 * the disk. NOTE: the directory is not rotated or size-limited; an operator or a log shipper must prune it.
 */
export class DeadLetterStore {
  constructor(
    private readonly dir: string,
    private readonly secrets: readonly string[],
    private readonly logger: FastifyBaseLogger,
  ) {}

  /** Writes a record; a failed write is logged and never fails the request. Returns the file path. */
  async write(record: DeadLetterRecord): Promise<string | undefined> {
    const { body, ...rest } = record;
    const safe = { ...rest, ...(body === undefined ? {} : storedBodyOf(this.redact(body))) };
    const file = join(this.dir, `${safe.receivedAt.replace(/[:.]/g, '-')}-${safe.reason}-${randomUUID()}.json`);
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFile(file, `${JSON.stringify(safe, null, 2)}\n`, { mode: 0o600 });
      this.logger.warn(
        { deadLetter: file, reason: safe.reason, requestId: safe.requestId },
        'alert body dead-lettered',
      );
      return file;
    } catch (error) {
      this.logger.error({ err: error, reason: safe.reason, requestId: safe.requestId }, 'dead-letter write failed');
      return undefined;
    }
  }

  private redact(text: string): string {
    return this.secrets.reduce((result, secret) => (secret ? result.split(secret).join(redactedMarker) : result), text);
  }
}
