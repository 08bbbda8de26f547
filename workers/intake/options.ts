import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';

/** Limits and timings of the intake, with their defaults. */
export const intakeLimitsSchema = z.object({
  /** Largest accepted body; larger ones get 413, announced ones before any byte of the body is read. */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Wait of the first alert of an idle incident for more alerts before its signal leaves. */
  batchWindowMs: z.number().int().nonnegative().default(20),
  maxBatchAlerts: z.number().int().positive().default(500),
  /** JSON size limit of one signal's alerts; Temporal's default payload limit is 2 MB (512 KB warns). */
  maxBatchBytes: z
    .number()
    .int()
    .positive()
    .default(512 * 1024),
  /** Alerts that may wait for Temporal at once; above it requests get 503. */
  maxPendingAlerts: z.number().int().positive().default(20_000),
  /** Deadline of each Temporal call made for a request; past it the request gets 503. */
  temporalDeadlineMs: z.number().int().positive().default(5000),
  /** `Retry-After` of a 503 response. */
  retryAfterSec: z.number().int().positive().default(5),
  /** Alert ids remembered per process to recognise redeliveries. */
  redeliveryCacheSize: z.number().int().positive().default(10_000),
});
export type IntakeLimits = z.infer<typeof intakeLimitsSchema>;

/** TLS for deployments without a service mesh: PEM texts; with `clientCa`, clients must present a certificate. */
export interface IntakeTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  clientCa?: string | Buffer;
}

export interface IntakeServerOptions {
  client: Client;
  /** Task queue of the incident workflow (default `firebreak`). */
  taskQueue?: string;
  /** Bearer token that senders must present. */
  token: string;
  limits?: z.input<typeof intakeLimitsSchema>;
  /** Directory of dead-letter records. */
  deadLetterDir: string;
  logger: FastifyBaseLogger;
  tls?: IntakeTlsOptions;
}

export const defaultTaskQueue = 'firebreak';
