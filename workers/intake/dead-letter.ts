import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { BodyIssue } from '../../domain/parsers/common';

/** Reason the intake did not store a body (or part of one). */
export type DeadLetterReason =
  'invalid_body' | 'too_large' | 'unsupported_media_type' | 'resolved_without_incident' | 'internal_error';

/** One dead-letter record: what arrived, when, and why it was not stored. It never contains the intake token. */
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
  /** The body text, with every occurrence of the intake token replaced; absent when the body was not read. */
  body?: string;
}

const redactedMarker = '[redacted]';

/**
 * Writes dead-letter records as one JSON file each (mode 0600) into a directory, and logs each one.
 * Unauthenticated requests are logged but never written, so they cannot fill the disk.
 * NOTE: the directory is not rotated or size-limited; an operator or a log shipper must prune it.
 */
export class DeadLetterStore {
  private ready: Promise<unknown> | undefined;

  constructor(
    private readonly dir: string,
    private readonly secrets: readonly string[],
    private readonly logger: FastifyBaseLogger,
  ) {}

  /** Writes a record; a failed write is logged and never fails the request. Returns the file path. */
  async write(record: DeadLetterRecord): Promise<string | undefined> {
    const safe = { ...record, body: record.body === undefined ? undefined : this.redact(record.body) };
    const file = join(this.dir, `${safe.receivedAt.replace(/[:.]/g, '-')}-${safe.reason}-${randomUUID()}.json`);
    try {
      this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 });
      await this.ready;
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
