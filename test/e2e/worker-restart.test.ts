import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { demoTrustedImage } from '../../cli/commands/demo';
import { demoAlertBody, scenarioAlerts } from '../../cli/commands/demo-alerts';
import type { IncidentResult } from '../../domain/response';
import { repoRoot } from '../../tools/lab/binaries';
import { demoPod } from '../../tools/lab/demo';
import { labOperator } from '../../tools/lab/playbooks';
import { buildIntakeServer } from '../../workers/intake/server';
import { decideGateUpdate, statusQuery, type IncidentStatus } from '../../workflows/messages';
import { testEnv } from '../support/env';
import { kubeConfigFor } from '../support/kube';
import { workflowBundle } from '../workflows/support/harness';
import { EscalationStandIn, standInRoutingKey } from './support/escalation-stand-in';
import { writeTestPlaybooks } from './support/playbooks';
import { createCheckoutWorkload, waitFor } from './support/workload';

/**
 * The worker is killed at the escalate gate and again just after the quiet period starts; each time a new one
 * starts 3 s later. The dead worker polled its sticky queue less than 10 s before the quiet period's timer
 * fires, so Temporal puts that workflow task on the sticky queue. It waits there until it times out, and
 * status queries reach the new worker in the meantime. Such a query replays the fired timer at the workflow time of
 * the last task, which lags behind. The incident must still open the restore gate once, stay replayable and
 * close.
 */

jest.setTimeout(300_000);

const namespace = 'shop-worker-restart';
const quietPeriodMs = 8000;
/** Time a killed worker stays down, as when a pod is rescheduled. */
const restartDelayMs = 3000;
const token = 'worker-restart-token';
const taskQueue = `worker-restart-${process.pid}`;

let dir: string;
let escalation: EscalationStandIn;
let connection: Connection;
let client: Client;
let intake: FastifyInstance;
const workers: ChildProcess[] = [];

function startWorkerProcess(playbookDir: string): ChildProcess {
  const log = openSync(join(dir, 'worker.log'), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/worker.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testEnv().temporal.address,
      TEMPORAL_NAMESPACE: testEnv().temporal.namespace,
      FIREBREAK_TASK_QUEUE: taskQueue,
      KUBECONFIG: testEnv().kube.kubeconfigPath,
      FIREBREAK_PLAYBOOK_DIR: playbookDir,
      FIREBREAK_EVIDENCE_DIR: join(dir, 'evidence'),
      FIREBREAK_REPORT_DIR: join(dir, 'reports'),
      FIREBREAK_PAGERDUTY_ROUTING_KEY: standInRoutingKey(),
    },
    stdio: ['ignore', log, log],
  });
  workers.push(child);
  return child;
}

async function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function replays(handle: WorkflowHandle): Promise<void> {
  const history = await handle.fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), replayName: 'worker-restart' }, history);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'firebreak-worker-restart-'));
  escalation = await EscalationStandIn.start();
  connection = await Connection.connect({ address: testEnv().temporal.address });
  client = new Client({ connection, namespace: testEnv().temporal.namespace });
  intake = buildIntakeServer({
    client,
    taskQueue,
    token,
    deadLetterDir: join(dir, 'dead-letters'),
    logger: pino({ level: 'silent' }),
  });
  await createCheckoutWorkload(kubeConfigFor('admin'), namespace, testEnv().kube.nodes[0] ?? 'kwok-node-0');
});

afterAll(async () => {
  for (const child of workers) await killed(child);
  await intake?.close();
  await connection?.close();
  await escalation?.close();
});

test('an incident whose worker died in the quiet period restores once and replays', async () => {
  const playbookDir = writeTestPlaybooks(dir, {
    quietPeriod: `${quietPeriodMs / 1000}s`,
    watchPeriod: '1s',
    escalationUrl: escalation.enqueueUrl,
  });
  const first = startWorkerProcess(playbookDir);

  let workflowId = '';
  for (const alert of scenarioAlerts) {
    const response = await intake.inject({
      method: 'POST',
      url: '/v1/alerts/falco',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: demoAlertBody(alert.file, { namespace, pod: demoPod }),
    });
    expect(response.statusCode).toBe(202);
    workflowId = response.json<{ workflowId: string }>().workflowId;
  }
  const handle = client.workflow.getHandle(workflowId);
  const status = (): Promise<IncidentStatus> => handle.query(statusQuery);

  await waitFor(
    'the escalate gate',
    async () => ((await status()).waitingGate === 'escalate' ? true : undefined),
    120_000,
  );
  await killed(first);
  await sleep(restartDelayMs);
  const second = startWorkerProcess(playbookDir);
  await handle.executeUpdate(decideGateUpdate, {
    args: [{ gate: 'escalate', decision: 'approve', decider: labOperator, channel: 'cli', reason: 'page the team' }],
  });
  const quietStarted = await waitFor(
    'the quiet period',
    async () => (await status()).timeline.find((entry) => entry.summary.startsWith('quiet period of')),
    120_000,
  );

  await killed(second);
  await sleep(restartDelayMs);
  startWorkerProcess(playbookDir);
  expect(Date.now()).toBeLessThan(Date.parse(quietStarted.at) + quietPeriodMs);
  // Queries reach the new worker before the workflow task that the dead worker's sticky queue still holds.
  const gateOpen = await waitFor(
    'the restore gate in the search attributes',
    async () => {
      await status().catch(() => undefined);
      const described = await handle.describe();
      return described.searchAttributes['FirebreakGate']?.[0] === 'restore' ? described : undefined;
    },
    120_000,
  );
  expect(gateOpen.status.name).toBe('RUNNING');
  await replays(handle);

  const opened = (await status()).timeline.filter((entry) => entry.summary.includes('gate restore opened'));
  expect(opened).toHaveLength(1);
  const restarts = (await status()).timeline.filter((entry) => entry.summary.includes('quiet period starts again'));
  expect(restarts).toEqual([]);

  await handle.executeUpdate(decideGateUpdate, {
    args: [
      {
        gate: 'restore',
        decision: 'approve',
        decider: labOperator,
        channel: 'cli',
        reason: 'rebuilt from a clean image',
        imageDigest: demoTrustedImage,
      },
    ],
  });
  const result: IncidentResult = await handle.result();
  expect(result.outcome).toBe('restored');
  await replays(handle);
  expect((await status()).phase).toBe('closed');
});
