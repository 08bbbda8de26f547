import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { z } from 'zod';
import { checkIntakeToken } from './auth';
import { defaultTaskQueue } from './options';
import { buildIntakeServer } from './server';

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

/** Environment of the intake process. Exactly one of the token variables must be set. */
export const intakeEnvSchema = z
  .object({
    FIREBREAK_INTAKE_TOKEN: optionalText,
    FIREBREAK_INTAKE_TOKEN_FILE: optionalText,
    FIREBREAK_INTAKE_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
    FIREBREAK_INTAKE_HOST: z.string().min(1).default('127.0.0.1'),
    FIREBREAK_INTAKE_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    FIREBREAK_INTAKE_MAX_ALERTS_PER_REQUEST: z.coerce.number().int().positive().default(10_000),
    FIREBREAK_INTAKE_MAX_SIGNALS_IN_FLIGHT: z.coerce.number().int().positive().default(64),
    FIREBREAK_INTAKE_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
    FIREBREAK_INTAKE_DEAD_LETTER_DIR: z.string().min(1).default('.data/dead-letters'),
    FIREBREAK_INTAKE_ARCHIVE_DIR: z.string().min(1).default('.data/alert-bodies'),
    FIREBREAK_INTAKE_TLS_CERT_FILE: optionalText,
    FIREBREAK_INTAKE_TLS_KEY_FILE: optionalText,
    FIREBREAK_INTAKE_TLS_CLIENT_CA_FILE: optionalText,
    TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    FIREBREAK_TASK_QUEUE: z.string().min(1).default(defaultTaskQueue),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  })
  .refine((env) => (env.FIREBREAK_INTAKE_TOKEN === undefined) !== (env.FIREBREAK_INTAKE_TOKEN_FILE === undefined), {
    message: 'set exactly one of FIREBREAK_INTAKE_TOKEN and FIREBREAK_INTAKE_TOKEN_FILE',
    path: ['FIREBREAK_INTAKE_TOKEN'],
  })
  .refine(
    (env) => (env.FIREBREAK_INTAKE_TLS_CERT_FILE === undefined) === (env.FIREBREAK_INTAKE_TLS_KEY_FILE === undefined),
    {
      message: 'set both FIREBREAK_INTAKE_TLS_CERT_FILE and FIREBREAK_INTAKE_TLS_KEY_FILE, or neither',
      path: ['FIREBREAK_INTAKE_TLS_CERT_FILE'],
    },
  );
export type IntakeEnv = z.infer<typeof intakeEnvSchema>;

/**
 * Reads the token from the variable or from the file, without surrounding whitespace (such as the file's
 * trailing newline), and checks it with `checkIntakeToken`.
 */
export function readIntakeToken(
  env: Pick<IntakeEnv, 'FIREBREAK_INTAKE_TOKEN' | 'FIREBREAK_INTAKE_TOKEN_FILE'>,
): string {
  const file = env.FIREBREAK_INTAKE_TOKEN_FILE;
  if (env.FIREBREAK_INTAKE_TOKEN !== undefined) {
    return checkIntakeToken(env.FIREBREAK_INTAKE_TOKEN.trim(), 'FIREBREAK_INTAKE_TOKEN');
  }
  if (file === undefined) {
    throw new Error('no intake token: set FIREBREAK_INTAKE_TOKEN or FIREBREAK_INTAKE_TOKEN_FILE');
  }
  return checkIntakeToken(readFileSync(file, 'utf8').trim(), `the file ${file} (FIREBREAK_INTAKE_TOKEN_FILE)`);
}

function readTls(env: IntakeEnv) {
  if (env.FIREBREAK_INTAKE_TLS_CERT_FILE === undefined || env.FIREBREAK_INTAKE_TLS_KEY_FILE === undefined) {
    return undefined;
  }
  const clientCaFile = env.FIREBREAK_INTAKE_TLS_CLIENT_CA_FILE;
  return {
    cert: readFileSync(env.FIREBREAK_INTAKE_TLS_CERT_FILE),
    key: readFileSync(env.FIREBREAK_INTAKE_TLS_KEY_FILE),
    ...(clientCaFile ? { clientCa: readFileSync(clientCaFile) } : {}),
  };
}

/**
 * Starts the intake. The Temporal connection is lazy, so the intake starts while Temporal is down and responds
 * 503 until it is back; `/readyz` reports the same.
 */
async function main(): Promise<void> {
  const env = intakeEnvSchema.parse(process.env);
  const logger = pino({ level: env.LOG_LEVEL, redact: ['req.headers.authorization'] });
  // A rejected promise that no caller awaits must not stop the intake and every request in flight with it. The
  // intake awaits every promise of a request, so such a rejection is a defect, and it is logged for diagnosis.
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled promise rejection; the intake keeps running');
  });
  const connection = Connection.lazy({ address: env.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
  const tls = readTls(env);
  const app = buildIntakeServer({
    client,
    taskQueue: env.FIREBREAK_TASK_QUEUE,
    token: readIntakeToken(env),
    limits: {
      maxBodyBytes: env.FIREBREAK_INTAKE_MAX_BODY_BYTES,
      maxAlertsPerRequest: env.FIREBREAK_INTAKE_MAX_ALERTS_PER_REQUEST,
      maxSignalsInFlight: env.FIREBREAK_INTAKE_MAX_SIGNALS_IN_FLIGHT,
      requestTimeoutMs: env.FIREBREAK_INTAKE_REQUEST_TIMEOUT_MS,
    },
    deadLetterDir: env.FIREBREAK_INTAKE_DEAD_LETTER_DIR,
    archiveDir: env.FIREBREAK_INTAKE_ARCHIVE_DIR,
    logger,
    ...(tls ? { tls } : {}),
  });

  const stop = async (signal: string): Promise<void> => {
    logger.info({ signal }, 'alert intake stopping');
    await app.close();
    await connection.close();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  const url = await app.listen({ host: env.FIREBREAK_INTAKE_HOST, port: env.FIREBREAK_INTAKE_PORT });
  logger.info(
    {
      url,
      temporalAddress: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.FIREBREAK_TASK_QUEUE,
    },
    'alert intake started',
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`firebreak intake: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
