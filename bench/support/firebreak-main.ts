import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { z } from 'zod';
import { createActivities } from '../../activities';
import { LocalEvidenceStore } from '../../activities/evidence/store';
import { createSlackWebClient } from '../../activities/notify/slack';
import { buildIntakeServer } from '../../workers/intake/server';
import { buildSlackApp } from '../../workers/slack/app';
import { createTemporalGateDecisions } from '../../workers/slack/gate-decisions';
import { createFirebreakWorker } from '../../workers/worker';

/**
 * A Firebreak process for the benchmarks: the worker, the alert intake and the Slack app, or any of them, as
 * the product wires them (`workers/dev.ts`, `workers/worker.ts`, `workers/intake/main.ts`). The parent passes
 * the settings in FIREBREAK_BENCH_CONFIG and receives the listening URLs over the IPC channel. The process
 * exits when its parent goes away, so an interrupted benchmark leaves nothing running.
 */

export const firebreakProcessConfigSchema = z.object({
  roles: z.array(z.enum(['worker', 'intake', 'slack'])).min(1),
  temporalAddress: z.string().min(1),
  namespace: z.string().default('default'),
  taskQueue: z.string().min(1),
  workflowBundlePath: z.string().min(1),
  kubeconfigPath: z.string().min(1),
  playbookDir: z.string().min(1),
  dataDir: z.string().min(1),
  intakeToken: z.string().min(1),
  intakePort: z.number().int().min(0).default(0),
  intakeLimits: z.record(z.string(), z.number()).optional(),
  slack: z
    .object({ apiUrl: z.string(), botToken: z.string(), signingSecret: z.string(), defaultChannel: z.string() })
    .optional(),
  uiUrl: z.string().default('http://127.0.0.1:8233'),
});
export type FirebreakProcessConfig = z.input<typeof firebreakProcessConfigSchema>;

export interface ReadyMessage {
  ready: true;
  intakeUrl?: string;
  slackUrl?: string;
}

const log = pino({ name: 'firebreak-bench', level: 'warn' });

async function startWorker(config: z.infer<typeof firebreakProcessConfigSchema>): Promise<() => Promise<void>> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(config.kubeconfigPath);
  const slack = config.slack;
  for (const dir of ['evidence', 'reports']) mkdirSync(join(config.dataDir, dir), { recursive: true });
  const activities = createActivities({
    kubeConfig,
    playbooks: { directory: config.playbookDir, logger: log },
    evidence: { store: new LocalEvidenceStore(join(config.dataDir, 'evidence')) },
    report: { reportDir: join(config.dataDir, 'reports') },
    ...(slack && {
      slack: {
        client: createSlackWebClient({ token: slack.botToken, slackApiUrl: slack.apiUrl }),
        temporalUiBaseUrl: `${config.uiUrl}/namespaces/${config.namespace}`,
        defaultChannel: slack.defaultChannel,
      },
    }),
  });
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await createFirebreakWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    activities,
    workflowBundle: { codePath: config.workflowBundlePath },
  });
  const run = worker.run();
  return async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await run.catch(() => undefined);
    await connection.close();
  };
}

async function main(): Promise<void> {
  const config = firebreakProcessConfigSchema.parse(JSON.parse(process.env['FIREBREAK_BENCH_CONFIG'] ?? '{}'));
  const stops: (() => Promise<void>)[] = [];
  const ready: ReadyMessage = { ready: true };
  if (config.roles.includes('worker')) {
    stops.push(await startWorker(config));
  }
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.namespace });
  stops.push(() => connection.close());
  if (config.roles.includes('intake')) {
    const intake = buildIntakeServer({
      client,
      taskQueue: config.taskQueue,
      token: config.intakeToken,
      deadLetterDir: join(config.dataDir, 'dead-letters'),
      logger: log,
      ...(config.intakeLimits && { limits: config.intakeLimits }),
    });
    ready.intakeUrl = await intake.listen({ host: '127.0.0.1', port: config.intakePort });
    stops.unshift(() => intake.close());
  }
  if (config.roles.includes('slack') && config.slack) {
    const app = buildSlackApp({
      mode: 'http',
      botToken: config.slack.botToken,
      signingSecret: config.slack.signingSecret,
      port: 0,
      host: '127.0.0.1',
      slackApiUrl: config.slack.apiUrl,
      decisions: createTemporalGateDecisions(client),
      logger: log,
    });
    ready.slackUrl = (await app.start()).url;
    stops.unshift(() => app.stop());
  }

  const stop = async () => {
    for (const step of stops) await step().catch((error: unknown) => log.error({ err: error }, 'stop step failed'));
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  process.once('disconnect', () => void stop());
  process.send?.(ready);
}

main().catch((error: unknown) => {
  log.error({ err: error }, 'the benchmark Firebreak process failed to start');
  process.exit(1);
});
