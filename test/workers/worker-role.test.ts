import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { KubeConfig } from '@kubernetes/client-node';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { LocalEvidenceStore } from '../../activities/evidence/store';
import { createFirebreakWorker } from '../../workers/worker';
import { activitiesForRole, workerRoleFromEnv } from '../../workers/worker-role';
import { standDownUpdate } from '../../workflows/messages';
import { testEnv } from '../support/env';
import { ask, batchOf, everySeverity, testAlert, testPlaybook } from '../workflows/support/fixtures';
import { gateOpen, startIncident, workflowBundle, type Harness } from '../workflows/support/harness';
import { recordingActivities } from '../workflows/support/recording-activities';

describe('worker role settings', () => {
  test('role defaults to all on the workflow queue', () => {
    expect(workerRoleFromEnv('firebreak', {})).toEqual({ role: 'all', taskQueue: 'firebreak', runWorkflows: true });
  });

  test('evidence role polls the evidence queue without workflows', () => {
    const env = { FIREBREAK_WORKER_ROLE: 'evidence', FIREBREAK_EVIDENCE_TASK_QUEUE: 'firebreak-evidence' };
    expect(workerRoleFromEnv('firebreak', env)).toEqual({
      role: 'evidence',
      taskQueue: 'firebreak-evidence',
      runWorkflows: false,
    });
  });

  test('containment role polls the workflow queue', () => {
    const env = { FIREBREAK_WORKER_ROLE: 'containment', FIREBREAK_EVIDENCE_TASK_QUEUE: 'firebreak-evidence' };
    expect(workerRoleFromEnv('firebreak', env)).toEqual({
      role: 'containment',
      taskQueue: 'firebreak',
      runWorkflows: true,
    });
  });

  test.each(['containment', 'evidence'])('%s role without an evidence queue is rejected', (role) => {
    expect(() => workerRoleFromEnv('firebreak', { FIREBREAK_WORKER_ROLE: role })).toThrow(
      /FIREBREAK_EVIDENCE_TASK_QUEUE/,
    );
    expect(() =>
      workerRoleFromEnv('firebreak', { FIREBREAK_WORKER_ROLE: role, FIREBREAK_EVIDENCE_TASK_QUEUE: '' }),
    ).toThrow(/FIREBREAK_EVIDENCE_TASK_QUEUE/);
  });

  test('evidence queue equal to the workflow queue is rejected', () => {
    const env = { FIREBREAK_WORKER_ROLE: 'evidence', FIREBREAK_EVIDENCE_TASK_QUEUE: 'firebreak' };
    expect(() => workerRoleFromEnv('firebreak', env)).toThrow(/must differ from FIREBREAK_TASK_QUEUE/);
  });

  test.each([
    ['with whitespace', 'evidence queue'],
    ['of 1001 characters', 'x'.repeat(1001)],
  ])('evidence queue %s is rejected', (_case, queue) => {
    const env = { FIREBREAK_WORKER_ROLE: 'evidence', FIREBREAK_EVIDENCE_TASK_QUEUE: queue };
    expect(() => workerRoleFromEnv('firebreak', env)).toThrow(/FIREBREAK_EVIDENCE_TASK_QUEUE/);
  });

  test('unknown role is rejected', () => {
    expect(() => workerRoleFromEnv('firebreak', { FIREBREAK_WORKER_ROLE: 'reader' })).toThrow(/FIREBREAK_WORKER_ROLE/);
  });
});

const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(testEnv().kube.kubeconfigPath);
const deps = {
  kubeConfig,
  evidence: { store: new LocalEvidenceStore(mkdtempSync(join(tmpdir(), 'firebreak-role-'))) },
};
const evidenceNames = Object.keys(activitiesForRole('evidence', deps)).sort();

describe('activities by role', () => {
  test('evidence role registers only evidence and report', () => {
    expect(evidenceNames).toEqual(['collectEvidence', 'storeAlertBodies', 'writeIncidentReport']);
  });

  test('containment and evidence roles split every activity', () => {
    const all = Object.keys(activitiesForRole('all', deps)).sort();
    const containment = Object.keys(activitiesForRole('containment', deps));
    expect(containment.filter((name) => evidenceNames.includes(name))).toEqual([]);
    expect([...containment, ...evidenceNames].sort()).toEqual(all);
  });
});

/** Entries of `activities` whose names pass `keep`. */
function pick(activities: object, keep: (name: string) => boolean): object {
  return Object.fromEntries(Object.entries(activities).filter(([name]) => keep(name)));
}

describe('split workers', () => {
  const containmentRecording = recordingActivities();
  const evidenceRecording = recordingActivities();
  const evidenceTaskQueue = `evidence-test-${randomUUID()}`;
  const workers: { worker: Worker; running: Promise<void> }[] = [];
  let workerConnection: NativeConnection;
  let connection: Connection;
  let harness: Harness;

  beforeAll(async () => {
    const { address, namespace } = testEnv().temporal;
    const taskQueue = `containment-test-${randomUUID()}`;
    workerConnection = await NativeConnection.connect({ address });
    connection = await Connection.connect({ address });
    const containment = await createFirebreakWorker({
      connection: workerConnection,
      namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: pick(containmentRecording.activities, (name) => !evidenceNames.includes(name)),
    });
    const evidence = await createFirebreakWorker({
      connection: workerConnection,
      namespace,
      taskQueue: evidenceTaskQueue,
      runWorkflows: false,
      activities: pick(evidenceRecording.activities, (name) => evidenceNames.includes(name)),
    });
    for (const worker of [containment, evidence]) workers.push({ worker, running: worker.run() });
    harness = { client: new Client({ connection, namespace }), taskQueue, stop: async () => undefined };
  });

  afterAll(async () => {
    for (const { worker } of workers) worker.shutdown();
    await Promise.all(workers.map(({ running }) => running));
    await workerConnection.close();
    await connection.close();
  });

  const autoIsolate = {
    isolate: everySeverity({ mode: 'auto' as const }),
    escalate: everySeverity(ask('1h', 'reject')),
    restore: everySeverity(ask('1h', 'reject')),
  };

  /** Names of the scheduled activities of a run, with the task queue each was scheduled on. */
  async function scheduledQueues(workflowId: string, runId?: string): Promise<Record<string, string[]>> {
    const history = await harness.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const queues: Record<string, string[]> = {};
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      const name = scheduled?.activityType?.name;
      if (scheduled === undefined || scheduled === null || !name) continue;
      queues[name] = [...new Set([...(queues[name] ?? []), scheduled.taskQueue?.name ?? ''])];
    }
    return queues;
  }

  test('evidence activities run on the evidence worker only', async () => {
    const handle = await startIncident(
      harness,
      { playbook: testPlaybook({ gates: autoIsolate }), evidenceTaskQueue },
      batchOf([testAlert({ priority: 'Critical' })]),
    );
    await gateOpen(handle, 'escalate');
    await handle.executeUpdate(standDownUpdate, {
      args: [{ reason: 'routing test', liftContainment: false, by: 'alice', channel: 'cli' }],
    });
    await handle.result();

    const ofIncident = (recording: typeof evidenceRecording, activity: string) =>
      recording.callsOf(activity).filter((call) => call.input['incidentId'] === handle.workflowId);
    expect(ofIncident(evidenceRecording, 'collectEvidence')).toHaveLength(1);
    expect(ofIncident(evidenceRecording, 'storeAlertBodies').length).toBeGreaterThanOrEqual(1);
    expect(ofIncident(evidenceRecording, 'writeIncidentReport')).toHaveLength(1);
    expect(ofIncident(evidenceRecording, 'quarantinePod')).toHaveLength(0);
    expect(ofIncident(containmentRecording, 'quarantinePod')).toHaveLength(1);
    for (const name of evidenceNames) {
      expect({ name, calls: ofIncident(containmentRecording, name).length }).toEqual({ name, calls: 0 });
    }
    const queues = await scheduledQueues(handle.workflowId);
    expect(queues['collectEvidence']).toEqual([evidenceTaskQueue]);
    expect(queues['writeIncidentReport']).toEqual([evidenceTaskQueue]);
    expect(queues['quarantinePod']).toEqual([harness.taskQueue]);
  });

  test('evidence queue survives continue-as-new', async () => {
    const handle = await startIncident(
      harness,
      { playbook: testPlaybook({ gates: autoIsolate }), evidenceTaskQueue, limits: { maxHistoryEvents: 40 } },
      batchOf([testAlert({ priority: 'Critical' })]),
    );
    const first = await handle.describe();
    await gateOpen(handle, 'escalate');
    await handle.executeUpdate(standDownUpdate, {
      args: [{ reason: 'routing test', liftContainment: false, by: 'alice', channel: 'cli' }],
    });
    await handle.result();

    const last = await handle.describe();
    expect(last.runId).not.toBe(first.runId);
    const queues = await scheduledQueues(handle.workflowId, last.runId);
    expect(queues['writeIncidentReport']).toEqual([evidenceTaskQueue]);
  });
});
