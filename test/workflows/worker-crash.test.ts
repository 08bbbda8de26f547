import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { decideGateUpdate } from '../../workflows/messages';
import {
  adminClients,
  createDeployment,
  createNamespace,
  deleteNamespace,
  runningPods,
  type AdminClients,
} from '../activities/kubernetes/kube-lab';
import { testEnv } from '../support/env';
import { approvers, ask, batchOf, everySeverity, testAlert, testPlaybook } from './support/fixtures';
import { gateOpen, startIncident, type Harness } from './support/harness';

const script = join(__dirname, 'support', 'crash-worker.ts');
const repoRoot = join(__dirname, '..', '..');

interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
  waitForLine: (pattern: RegExp, timeoutMs: number) => Promise<string>;
}

function startWorkerProcess(taskQueue: string, pauseMs: number): WorkerProcess {
  const { temporal, kube } = testEnv();
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repoRoot,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      FIREBREAK_TASK_QUEUE: taskQueue,
      KUBECONFIG: kube.kubeconfigPath,
      CRASH_PAUSE_MS: String(pauseMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const waitForLine = async (pattern: RegExp, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const line = lines.find((candidate) => pattern.test(candidate));
      if (line !== undefined) return line;
      if (child.exitCode !== null) throw new Error(`worker process exited ${child.exitCode}: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`worker process printed no line matching ${pattern} within ${timeoutMs} ms: ${stderr}`);
  };
  return { child, lines, waitForLine };
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

let admin: AdminClients;
let namespace: string;
let client: Client;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  admin = adminClients();
  namespace = await createNamespace(admin, 'fb-crash');
  await createDeployment(admin, namespace, 'web', 1, 'kwok-node-0');
  const connection = await Connection.connect({ address: testEnv().temporal.address });
  client = new Client({ connection, namespace: testEnv().temporal.namespace });
});

afterAll(async () => {
  for (const child of workers) await stopProcess(child, 'SIGKILL');
  await client.connection.close();
  await deleteNamespace(admin, namespace);
});

async function quarantinePolicies(incidentId: string) {
  const list = await admin.networking.listNamespacedNetworkPolicy({
    namespace,
    labelSelector: `firebreak.dev/incident=${incidentId}`,
  });
  return list.items.map((policy) => policy.metadata?.name);
}

async function replicasOf(name: string): Promise<number | undefined> {
  return (await admin.apps.readNamespacedDeployment({ name, namespace })).spec?.replicas;
}

test('worker killed during containment: new worker finishes, objects created once', async () => {
  const [pod] = await runningPods(admin, namespace, 'app=web', 1);
  const podName = pod?.metadata?.name ?? '';
  const taskQueue = `crash-test-${randomUUID()}`;
  const gates = {
    isolate: everySeverity({ mode: 'auto' }),
    escalate: everySeverity({ mode: 'skip' }),
    restore: everySeverity(ask('1h', 'reject')),
  };
  const playbook = testPlaybook({
    gates,
    evidence: [],
    containment: [{ action: 'quarantine' }, { action: 'scale-to-zero' }],
  });

  const first = startWorkerProcess(taskQueue, 60_000);
  workers.push(first.child);
  await first.waitForLine(/^ready$/, 60_000);
  const harness: Harness = { client, taskQueue, stop: async () => undefined };
  const handle = await startIncident(harness, { playbook }, batchOf([testAlert({ namespace, pod: podName })]));
  const contained = await first.waitForLine(/^contained /, 30_000);
  await stopProcess(first.child, 'SIGKILL');

  const second = startWorkerProcess(taskQueue, 0);
  workers.push(second.child);
  await second.waitForLine(/^ready$/, 60_000);
  await gateOpen(handle, 'restore', 120_000);

  const policies = await quarantinePolicies(handle.workflowId);
  expect(contained).toBe(`contained ${policies[0]}`);
  expect(policies).toHaveLength(1);
  expect(await replicasOf('web')).toBe(0);
  expect(second.lines.filter((line) => line.startsWith('contained '))).toEqual([contained]);

  const decider = approvers[0] ?? '';
  await handle.executeUpdate(decideGateUpdate, {
    args: [{ gate: 'restore', decision: 'approve', decider, channel: 'cli' }],
  });
  const result = await handle.result();
  expect(result.outcome).toBe('restored');
  expect(await quarantinePolicies(handle.workflowId)).toEqual([]);
  expect(await replicasOf('web')).toBe(1);
  await stopProcess(second.child, 'SIGTERM');
}, 240_000);
