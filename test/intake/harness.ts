import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Alert } from '../../domain/alert';
import { buildIntakeServer } from '../../workers/intake/server';
import type { IntakeServerOptions } from '../../workers/intake/options';
import { firebreakSearchAttributes } from '../../tools/lab/temporal';
import { testEnv } from '../support/env';
import type { RecorderStatus } from './workflows/recorder';

export const intakeToken = 'test-intake-token-5f1c9a2e';

/** An intake server on a free loopback port, backed by a Temporal server and the recorder test workflow. */
export interface IntakeHarness {
  url: string;
  app: FastifyInstance;
  client: Client;
  namespace: string;
  taskQueue: string;
  deadLetterDir: string;
  archiveDir: string;
  /** Workflow calls (describe, signalWithStart, signal) that the intake's client has in flight now and at most. */
  temporalCalls: TemporalCallCount;
  /** Posts a body with the test token unless `headers` replace it. */
  post(path: string, body: string, headers?: Record<string, string>): Promise<Response>;
  status(workflowId: string, runId?: string): Promise<RecorderStatus>;
  alerts(workflowId: string, runId?: string): Promise<Alert[]>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  temporalAddress?: string;
  /** Run the recorder workflow worker (needs Temporal up while the tests run). */
  worker?: boolean;
  limits?: IntakeServerOptions['limits'];
  /** Temporal namespace; by default a fresh one (see `createTestNamespace`). */
  namespace?: string;
  /** Intake token; default `intakeToken`. */
  token?: string;
  /** Logger of the intake; default a silent one (or `FIREBREAK_TEST_LOG_LEVEL`). */
  logger?: FastifyBaseLogger;
}

export interface TemporalCallCount {
  inFlight: number;
  maxInFlight: number;
  /** Describe calls sent so far. */
  describes: number;
}

/** Builds a client interceptor that counts the workflow calls in flight, so tests can observe the intake's concurrency. */
function countingInterceptor(count: TemporalCallCount): WorkflowClientInterceptor {
  const counted = async <T>(call: () => Promise<T>): Promise<T> => {
    count.inFlight += 1;
    count.maxInFlight = Math.max(count.maxInFlight, count.inFlight);
    try {
      return await call();
    } finally {
      count.inFlight -= 1;
    }
  };
  return {
    describe: (input, next) => {
      count.describes += 1;
      return counted(() => next(input));
    },
    signalWithStart: (input, next) => counted(() => next(input)),
    signal: (input, next) => counted(() => next(input)),
  };
}

const indexedValueTypes = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

/**
 * Registers a fresh namespace with Firebreak's search attributes, so this test file's incident workflow ids
 * (`incident-<fingerprint>`) cannot meet those of other test files posting the same alerts to the shared server.
 */
export async function createTestNamespace(connection: Connection): Promise<string> {
  const namespace = `intake-test-${randomUUID()}`;
  await connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
  const searchAttributes = Object.fromEntries(
    Object.entries(firebreakSearchAttributes).map(([name, type]) => [name, indexedValueTypes[type]]),
  );
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  return namespace;
}

let runtimeInstalled = false;

/** Keeps worker logs to warnings and errors; the runtime can be installed once per process. */
function installQuietRuntime(): void {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
}

/** Starts an intake server and, unless disabled, a worker for the recorder test workflow on a fresh task queue. */
export async function startIntakeHarness(options: HarnessOptions = {}): Promise<IntakeHarness> {
  const env = testEnv();
  const address = options.temporalAddress ?? env.temporal.address;
  const taskQueue = `intake-test-${randomUUID()}`;
  const connection = await Connection.connect({ address });
  const namespace = options.namespace ?? (await createTestNamespace(connection));
  const temporalCalls: TemporalCallCount = { inFlight: 0, maxInFlight: 0, describes: 0 };
  const client = new Client({
    connection,
    namespace,
    interceptors: { workflow: [countingInterceptor(temporalCalls)] },
  });

  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let workerConnection: NativeConnection | undefined;
  if (options.worker !== false) {
    installQuietRuntime();
    workerConnection = await NativeConnection.connect({ address });
    worker = await Worker.create({
      connection: workerConnection,
      namespace,
      taskQueue,
      workflowsPath: require.resolve('./workflows/recorder'),
    });
    workerRun = worker.run();
  }

  const deadLetterDir = mkdtempSync(join(tmpdir(), 'firebreak-dead-letters-'));
  const archiveDir = mkdtempSync(join(tmpdir(), 'firebreak-alert-bodies-'));
  const token = options.token ?? intakeToken;
  const app = buildIntakeServer({
    client,
    taskQueue,
    token,
    deadLetterDir,
    archiveDir,
    logger: options.logger ?? pino({ level: process.env['FIREBREAK_TEST_LOG_LEVEL'] ?? 'silent' }),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });

  return {
    url,
    app,
    client,
    namespace,
    taskQueue,
    deadLetterDir,
    archiveDir,
    temporalCalls,
    post: (path, body, headers) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
        body,
      }),
    status: (workflowId, runId) => client.workflow.getHandle(workflowId, runId).query<RecorderStatus>('status'),
    alerts: (workflowId, runId) => client.workflow.getHandle(workflowId, runId).query<Alert[]>('alerts'),
    close: async () => {
      await app.close();
      worker?.shutdown();
      await workerRun;
      await workerConnection?.close();
      await connection.close();
    },
  };
}
