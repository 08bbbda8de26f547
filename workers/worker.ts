import { KubeConfig } from '@kubernetes/client-node';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import pino from 'pino';
import { z } from 'zod';
import type { ActivityDeps } from '../activities';
import { DEFAULT_RATE_LIMIT } from '../activities/kubernetes';
import { createSlackWebClient } from '../activities/notify/slack';
import { workerHealthSettingsFromEnv } from './health';
import { connectionOptions, temporalSettingsFromEnv, type TemporalSettings } from './temporal';
import { installTemporalMetrics, startWorkerHealth } from './worker-health';
import { activitiesForRole, workerRoleFromEnv } from './worker-role';

/** Options of a Firebreak worker: the incident workflow and the activities of its role, on one task queue. */
export interface FirebreakWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  /** False for a worker that runs activities only and polls no workflow tasks; default true. */
  runWorkflows?: boolean;
  /** Prebuilt workflow bundle; when absent the worker bundles `workflows/` at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** Incidents kept in the sticky cache; `DEFAULT_MAX_CACHED_WORKFLOWS` when absent, 0 turns the cache off. */
  maxCachedWorkflows?: number;
}

/**
 * Incidents whose workflow state the worker keeps in memory between workflow tasks. An incident outside the
 * cache is replayed from its history when its next signal, Update or activity result arrives. Without this
 * bound, the Temporal TypeScript SDK 1.24 sizes the cache from the heap limit (2,395 workflows for a heap
 * limit of 4,288 MiB). A cached incident took about 2 MiB of resident memory in `bench/open-gates.ts`, so
 * that default exhausted the worker's memory with about 2,300 incidents open, and 250 take about 500 MiB.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 250;

/** Workflow code of the worker. A Temporal worker given neither option polls activity tasks only. */
function workflowSource(options: FirebreakWorkerOptions): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (options.runWorkflows === false) return {};
  if (options.workflowBundle) return { workflowBundle: options.workflowBundle };
  return { workflowsPath: require.resolve('../workflows') };
}

/** Creates the worker; call `run()` on it and `shutdown()` to stop. */
export async function createFirebreakWorker(options: FirebreakWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...workflowSource(options),
    maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
    ...(options.identity === undefined ? {} : { identity: options.identity }),
  });
}

const positiveNumber = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'must be a positive number')
  .transform(Number)
  .refine((value) => value > 0, 'must be greater than 0');

const workerEnvSchema = z.object({
  /** Path of a kubeconfig file; without it the in-cluster service account or ~/.kube/config is used. */
  KUBECONFIG: z.string().min(1).optional(),
  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  /** Slack Web API base URL, for a stand-in in tests. */
  SLACK_API_URL: z.url().optional(),
  FIREBREAK_SLACK_DEFAULT_CHANNEL: z.string().min(1).default('#firebreak'),
  /** `true` runs every Kubernetes mutation as a server-side dry run. */
  FIREBREAK_FORCE_DRY_RUN: z.enum(['true', 'false']).default('false'),
  FIREBREAK_PLAYBOOK_DIR: z.string().min(1).default('playbooks'),
  /** Sustained Kubernetes API requests per second of this worker; `DEFAULT_RATE_LIMIT.qps` when unset. */
  FIREBREAK_KUBE_QPS: positiveNumber.optional(),
  /** Kubernetes API requests allowed in a burst above the sustained rate; `DEFAULT_RATE_LIMIT.burst` when unset. */
  FIREBREAK_KUBE_BURST: positiveNumber.optional(),
});

const workerTuningSchema = z.object({
  FIREBREAK_MAX_CACHED_WORKFLOWS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .refine((count) => count === 0 || count >= 2, 'must be 0 (no cache) or at least 2')
    .optional(),
});

/** Reads the worker's own settings (not the activities') from the environment. */
export function workerTuningFromEnv(env: Record<string, string | undefined> = process.env): {
  maxCachedWorkflows: number;
} {
  const parsed = workerTuningSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid worker settings in the environment:\n${z.prettifyError(parsed.error)}`);
  }
  return { maxCachedWorkflows: parsed.data.FIREBREAK_MAX_CACHED_WORKFLOWS ?? DEFAULT_MAX_CACHED_WORKFLOWS };
}

/** Loads the kubeconfig from KUBECONFIG, the in-cluster service account, or ~/.kube/config, in that order. */
export function loadKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}

/** Builds the activity dependencies from the environment. */
export function activityDepsFromEnv(settings: TemporalSettings, env = process.env): ActivityDeps {
  const parsed = workerEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid worker settings in the environment:\n${z.prettifyError(parsed.error)}`);
  }
  const vars = parsed.data;
  const slackClient = vars.SLACK_BOT_TOKEN
    ? createSlackWebClient({ token: vars.SLACK_BOT_TOKEN, slackApiUrl: vars.SLACK_API_URL })
    : undefined;
  const uiBase = `${settings.uiUrl ?? 'http://localhost:8233'}/namespaces/${settings.namespace}`;
  return {
    kubeConfig: loadKubeConfig(),
    kubernetes: {
      forceDryRun: vars.FIREBREAK_FORCE_DRY_RUN === 'true',
      rateLimit: {
        qps: vars.FIREBREAK_KUBE_QPS ?? DEFAULT_RATE_LIMIT.qps,
        burst: vars.FIREBREAK_KUBE_BURST ?? DEFAULT_RATE_LIMIT.burst,
      },
    },
    slack: slackClient && {
      client: slackClient,
      temporalUiBaseUrl: uiBase,
      defaultChannel: vars.FIREBREAK_SLACK_DEFAULT_CHANNEL,
    },
    playbooks: { directory: vars.FIREBREAK_PLAYBOOK_DIR },
  };
}

async function main(): Promise<void> {
  const log = pino({ name: 'firebreak-worker' });
  const settings = temporalSettingsFromEnv();
  const healthSettings = workerHealthSettingsFromEnv();
  // The Temporal runtime is a process-wide singleton: install its metrics exporter before the first connection.
  installTemporalMetrics(healthSettings.temporalMetrics, log);
  const connection = await NativeConnection.connect(connectionOptions(settings));
  const { role, taskQueue, runWorkflows } = workerRoleFromEnv(settings.taskQueue);
  const activities = activitiesForRole(role, activityDepsFromEnv(settings));
  const worker = await createFirebreakWorker({
    connection,
    namespace: settings.namespace,
    taskQueue,
    runWorkflows,
    activities,
    ...workerTuningFromEnv(),
  });
  const healthPort = healthSettings.health.port;
  const health =
    healthPort === undefined
      ? undefined
      : await startWorkerHealth(worker, connection, { ...healthSettings.health, port: healthPort, logger: log });
  log.info({ address: settings.address, namespace: settings.namespace, taskQueue, role }, 'worker started');
  try {
    await worker.run();
  } finally {
    await health?.close();
    await connection.close();
    log.info('worker stopped');
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    pino({ name: 'firebreak-worker' }).error({ err: error }, 'worker failed');
    process.exit(1);
  });
}
