import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createEvidenceActivities, type EvidenceDeps } from '../../../activities/evidence';
import type { ExecPlan } from '../../../activities/evidence/collect-exec';
import { parseManifest, type CustodyEntry } from '../../../activities/evidence/custody';
import { LocalEvidenceStore } from '../../../activities/evidence/store';
import { testEnv } from '../../support/env';
import { kubeConfigFor } from '../../support/kube';
import { createLabWorkload, deleteNamespace, type LabWorkload } from './lab-pod';
import type { collectOnce } from './support/collect-workflow';

const hanging = (name: string, seconds: number): ExecPlan => ({
  name,
  attempts: [['sh', '-c', `echo ${name}; sleep ${seconds}`]],
  redaction: 'text',
});

describe('collectExec', () => {
  const kubeConfig = kubeConfigFor('admin');
  let workload: LabWorkload;
  let root: string;
  let store: LocalEvidenceStore;

  beforeAll(async () => {
    workload = await createLabWorkload(kubeConfig, ['app', 'sidecar']);
  });
  afterAll(() => deleteNamespace(kubeConfig, workload.namespace));
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-exec-'));
    store = new LocalEvidenceStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const activities = (deps: Partial<EvidenceDeps> = {}) => createEvidenceActivities({ kubeConfig, store, ...deps });
  const entriesOf = async (incidentId: string): Promise<CustodyEntry[]> =>
    parseManifest(await store.readManifest(incidentId)).flatMap((line) => ('entry' in line ? [line.entry] : []));

  test('skips the commands left when the exec budget is spent', async () => {
    const incidentId = 'incident-00000000000000c1';
    const plans = ['processes', 'connections', 'file-changes'].map((name) => hanging(name, 30));
    const startedMs = Date.now();
    const result = await activities({ execPlans: plans }).collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['exec'],
      limits: { execDeadlineMs: 2000, execBudgetMs: 3000 },
    });
    const elapsedMs = Date.now() - startedMs;

    expect(elapsedMs).toBeLessThan(10_000);
    expect(result.artefacts.map((ref) => ref.name)).toEqual([
      'exec/app/processes',
      'exec/app/connections',
      'collection-errors',
    ]);
    expect(result.artefacts[1]).toEqual(expect.objectContaining({ incomplete: true }));
    const errors = (await entriesOf(incidentId)).find((entry) => entry.name === 'collection-errors');
    if (!errors) throw new Error('collection-errors is not in the manifest');
    const recorded = readFileSync(store.objectPath(errors.sha256), 'utf8');
    expect(recorded).toContain('skipped 4 exec artefact(s) for lack of time');
    expect(recorded).toContain('exec/app/file-changes, exec/sidecar/processes, exec/sidecar/connections');
  }, 30_000);

  test('redacts passwords in recorded command lines', async () => {
    const incidentId = 'incident-00000000000000c2';
    const plans: ExecPlan[] = [
      {
        name: 'redis',
        attempts: [
          ['redis-cli', '-a', 'hunter2-redis', 'info'],
          ['sh', '-c', 'echo API_TOKEN=s3cr3t-value'],
        ],
        redaction: 'text',
      },
    ];
    await activities({ execPlans: plans }).collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['exec'],
      limits: {},
    });

    const entry = (await entriesOf(incidentId)).find((candidate) => candidate.name === 'exec/app/redis');
    const recorded = JSON.stringify(entry?.details?.attempts);
    expect(recorded).toContain('redis-cli');
    expect(recorded).not.toContain('hunter2-redis');
    expect(recorded).not.toContain('s3cr3t-value');
    expect(recorded).toContain('[REDACTED]');
  }, 30_000);

  test('heartbeats while a command runs', async () => {
    const { address, namespace } = testEnv().temporal;
    const taskQueue = `evidence-heartbeat-${randomUUID()}`;
    const workerConnection = await NativeConnection.connect({ address });
    const worker = await Worker.create({
      connection: workerConnection,
      namespace,
      taskQueue,
      workflowsPath: require.resolve('./support/collect-workflow'),
      activities: activities({ execPlans: [hanging('slow', 14)] }),
    });
    const connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace });
    try {
      const output = await worker.runUntil(
        client.workflow.execute<typeof collectOnce>('collectOnce', {
          taskQueue,
          workflowId: `evidence-heartbeat-${randomUUID()}`,
          args: [
            {
              evidence: {
                incidentId: 'incident-00000000000000c3',
                target: workload.target,
                kinds: ['exec'],
                limits: { execDeadlineMs: 12_000 },
              },
              heartbeatTimeoutMs: 8000,
            },
          ],
        }),
      );
      expect(output.artefacts.map((ref) => ref.name)).toEqual(['exec/app/slow', 'exec/sidecar/slow']);
    } finally {
      await connection.close();
      await workerConnection.close();
    }
  }, 90_000);
});
