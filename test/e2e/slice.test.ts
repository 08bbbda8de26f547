import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { createActivities } from '../../activities';
import { LocalEvidenceStore } from '../../activities/evidence/store';
import { repoRoot } from '../../tools/lab/binaries';
import { createDemoWorkload, demoNamespace, demoPod } from '../../tools/lab/demo';
import { writeLabPlaybooks } from '../../tools/lab/playbooks';
import { buildIntakeServer } from '../../workers/intake/server';
import { createFirebreakWorker } from '../../workers/worker';
import { testEnv } from '../support/env';
import { kubeConfigFor } from '../support/kube';

const token = 'slice-test-token';
const taskQueue = `slice-${process.pid}`;
const fixture = join(repoRoot, 'deploy', 'examples', 'alerts', 'falcosidekick-terminal-shell.json');

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) {
      return value;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('alert to quarantine slice', () => {
  let worker: Worker;
  let workerRun: Promise<void>;
  let workerConnection: NativeConnection;
  let clientConnection: Connection;
  let client: Client;
  let intake: FastifyInstance;

  beforeAll(async () => {
    const kubeConfig = kubeConfigFor('admin');
    await createDemoWorkload(kubeConfig, testEnv().kube.nodes[0] ?? 'kwok-node-0');
    const dir = mkdtempSync(join(tmpdir(), 'firebreak-slice-'));
    const playbookDir = writeLabPlaybooks(join(repoRoot, 'playbooks'), join(dir, 'playbooks'));

    workerConnection = await NativeConnection.connect({ address: testEnv().temporal.address });
    worker = await createFirebreakWorker({
      connection: workerConnection,
      namespace: 'default',
      taskQueue,
      activities: createActivities({
        kubeConfig,
        playbooks: { directory: playbookDir },
        evidence: { store: new LocalEvidenceStore(join(dir, 'evidence')) },
        report: { reportDir: join(dir, 'reports') },
      }),
    });
    workerRun = worker.run();

    clientConnection = await Connection.connect({ address: testEnv().temporal.address });
    client = new Client({ connection: clientConnection, namespace: 'default' });
    intake = buildIntakeServer({
      client,
      taskQueue,
      token,
      deadLetterDir: join(dir, 'dead-letters'),
      logger: pino({ level: 'silent' }),
    });
    await intake.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await intake.close();
    worker.shutdown();
    await workerRun;
    await clientConnection.close();
    await workerConnection.close();
  });

  it('quarantines the pod that a Falcosidekick alert names', async () => {
    const response = await intake.inject({
      method: 'POST',
      url: '/v1/alerts/falco',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: readFileSync(fixture, 'utf8'),
    });
    expect(response.statusCode).toBe(202);
    const { workflowId } = response.json<{ workflowId: string }>();
    expect(workflowId).toMatch(/^incident-[0-9a-f]{16}$/);

    const listed = await until('the incident in the workflow list', async () => {
      for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
        const attributes = execution.searchAttributes;
        if (attributes.FirebreakNamespace) return attributes;
      }
      return undefined;
    });
    expect(listed.FirebreakNamespace).toEqual([demoNamespace]);
    expect(listed.FirebreakRule).toEqual(['Terminal shell in container']);

    const networking = kubeConfigFor('admin').makeApiClient(NetworkingV1Api);
    const policyName = `firebreak-quarantine-${workflowId.replace(/^incident-/, '')}`;
    const policy = await until('the quarantine NetworkPolicy', () =>
      networking.readNamespacedNetworkPolicy({ name: policyName, namespace: demoNamespace }),
    );
    const incidentKey = `quarantine.firebreak.dev/${workflowId.replace(/^incident-/, '')}`;
    expect(policy.spec?.podSelector?.matchLabels).toEqual({ [incidentKey]: workflowId });
    expect(policy.spec?.policyTypes).toEqual(['Ingress', 'Egress']);

    const core = kubeConfigFor('admin').makeApiClient(CoreV1Api);
    const pod = await core.readNamespacedPod({ name: demoPod, namespace: demoNamespace });
    expect(pod.metadata?.labels?.['firebreak.dev/incident']).toBe(workflowId);
    expect(pod.metadata?.labels?.['firebreak.dev/quarantine']).toBe('true');
    expect(pod.metadata?.labels?.[incidentKey]).toBe(workflowId);

    const others = await core.listNamespacedPod({ namespace: demoNamespace });
    const quarantined = others.items.filter((item) => item.metadata?.labels?.['firebreak.dev/quarantine'] === 'true');
    expect(quarantined.map((item) => item.metadata?.name)).toEqual([demoPod]);
  });
});
