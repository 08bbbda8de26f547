import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';

/**
 * Limits and timings of the intake, with their defaults. `maxAlertsPerRequest` is lowered to
 * `maxPendingAlerts` when it is above it, so every request that passes the count check can fit once the
 * intake is idle.
 */
export const intakeLimitsSchema = z
  .object({
    /** Largest accepted body; larger ones get 413, announced ones before any byte of the body is read. */
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** Alerts in one body; a larger body gets 413, and the sender can split it. */
    maxAlertsPerRequest: z.number().int().positive().default(10_000),
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
    /**
     * Incident signals (one signalWithStart each) in flight at once per process. An alert waits for a free slot
     * once Temporal completes fewer signals per second than this divided by the signal latency, so 64 keeps
     * 100 alerts/s flowing with signals of up to about 600 ms.
     */
    maxSignalsInFlight: z.number().int().positive().default(64),
    /** `rawEvent` above this size is cut in the signal, and the full event text is archived. */
    maxRawEventBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024),
    /** JSON size of one alert above which its long text values are cut as well. */
    maxAlertBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024),
    /** Deadline of each Temporal call made for a request; past it the request gets 503. */
    temporalDeadlineMs: z.number().int().positive().default(5000),
    /** `Retry-After` of a 503 response. */
    retryAfterSec: z.number().int().positive().default(5),
    /** Alerts remembered per process to recognise redeliveries. */
    redeliveryCacheSize: z.number().int().positive().default(10_000),
    /** Time a client has to send a whole request, headers and body; past it Node.js responds with 408. */
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** Time a connection may stay idle before it is closed. */
    connectionTimeoutMs: z.number().int().positive().default(60_000),
  })
  .transform((limits) => ({
    ...limits,
    maxAlertsPerRequest: Math.min(limits.maxAlertsPerRequest, limits.maxPendingAlerts),
  }));
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
  /** Directory of archived event texts that were cut in the signal; default `alert-bodies` beside `deadLetterDir`. */
  archiveDir?: string;
  logger: FastifyBaseLogger;
  tls?: IntakeTlsOptions;
}

/**
 * Task queue of the evidence worker, passed to every incident the intake starts as `evidenceTaskQueue`, from
 * `FIREBREAK_EVIDENCE_TASK_QUEUE`: at most 1,000 characters (the Temporal server's default id length limit)
 * without whitespace. Unset or empty leaves the evidence and report activities on the workflow's task queue.
 */
export const intakeEvidenceEnvSchema = z.object({
  FIREBREAK_EVIDENCE_TASK_QUEUE: z
    .string()
    .regex(/^\S{0,1000}$/, 'must be at most 1000 characters without whitespace')
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
});

/** Reads and checks `FIREBREAK_EVIDENCE_TASK_QUEUE`; throws with the variable's name when it is invalid. */
export function evidenceTaskQueueFromEnv(env: Record<string, string | undefined> = process.env): string | undefined {
  const parsed = intakeEvidenceEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid intake settings in the environment:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data.FIREBREAK_EVIDENCE_TASK_QUEUE;
}

export const defaultTaskQueue = 'firebreak';
