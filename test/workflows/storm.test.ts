import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { FirebreakActivities, IncidentRecord } from '../../domain/response';
import { alertsSignal, decideGateUpdate, statusQuery } from '../../workflows/messages';
import { approvers, ask, batchOf, everySeverity, outsider, testAlert, testPlaybook } from './support/fixtures';
import {
  gateOpen,
  startHarness,
  startIncident,
  waitForStatus,
  type Harness,
  type IncidentHandle,
} from './support/harness';
import { recordingActivities } from './support/recording-activities';

let harness: Harness;
let recording: ReturnType<typeof recordingActivities>;
/** Incidents whose first page fails with a retry delay of a minute. */
const failFirstPage = new Set<string>();
const pageAttempts = new Map<string, number>();

beforeAll(async () => {
  recording = recordingActivities();
  const activities: FirebreakActivities = {
    ...recording.activities,
    escalateIncident: async (input) => {
      const attempts = (pageAttempts.get(input.incidentId) ?? 0) + 1;
      pageAttempts.set(input.incidentId, attempts);
      if (attempts === 1 && failFirstPage.has(input.incidentId)) {
        throw ApplicationFailure.create({ message: 'paging service answered 503', nextRetryDelay: '1m' });
      }
      return recording.activities.escalateIncident(input);
    },
  };
  harness = await startHarness(activities);
});

afterAll(async () => {
  await harness.stop();
});

const [first] = approvers as [string];
const askOnlyIsolate = {
  isolate: everySeverity(ask('1h', 'reject')),
  escalate: everySeverity({ mode: 'skip' as const }),
  restore: everySeverity({ mode: 'skip' as const }),
};

function callsFor(handle: IncidentHandle, activity: string) {
  return recording.callsOf(activity).filter((call) => call.input['incidentId'] === handle.workflowId);
}

test('large alerts keep the incident running through continue-as-new', async () => {
  const pad = 'A'.repeat(60_000);
  const large = () => testAlert({ output: pad, rawEvent: JSON.stringify({ output: pad }) });
  const limits = { maxHistoryEvents: 40 };
  const handle = await startIncident(harness, { playbook: testPlaybook(), limits }, batchOf([large()]));
  await gateOpen(handle, 'isolate');
  const firstRunId = (await handle.describe()).runId;

  for (let index = 0; index < 19; index++) await handle.signal(alertsSignal, batchOf([large()]));
  for (let index = 0; index < 20; index++) await handle.signal(alertsSignal, batchOf([testAlert()]));
  const status = await waitForStatus(handle, (current) => current.alertCount === 40);
  const description = await handle.describe();

  expect(description.status.name).toBe('RUNNING');
  expect(description.runId).not.toBe(firstRunId);
  expect(status.waitingGate).toBe('isolate');
  const stored = callsFor(handle, 'storeAlertBodies').flatMap((call) => call.input['bodies'] as unknown[]);
  expect(stored.length).toBeGreaterThan(0);
  expect(Buffer.byteLength(JSON.stringify(status), 'utf8')).toBeLessThan(200_000);
  await handle.terminate('test finished');
});

test('huge decider strings are rejected and status still answers', async () => {
  const handle = await startIncident(
    harness,
    { playbook: testPlaybook({ gates: askOnlyIsolate }) },
    batchOf([testAlert()]),
  );
  await gateOpen(handle, 'isolate');
  const huge = `${outsider}-${'x'.repeat(120_000)}`;

  const failures: string[] = [];
  for (let index = 0; index < 25; index++) {
    const input = {
      gate: 'isolate' as const,
      decision: 'approve' as const,
      decider: `${huge}${index}`,
      channel: 'cli' as const,
    };
    const error: unknown = await handle.executeUpdate(decideGateUpdate, { args: [input] }).catch((e: unknown) => e);
    failures.push(error instanceof WorkflowUpdateFailedError ? (error.cause?.message ?? '') : String(error));
  }
  const status = await handle.query(statusQuery);
  const decided = await handle.executeUpdate(decideGateUpdate, {
    args: [{ gate: 'isolate', decision: 'reject', decider: first, channel: 'slack' }],
  });

  expect(new Set(failures)).toEqual(new Set(['invalid gate decision: decider: must be at most 128 characters']));
  expect(status.waitingGate).toBe('isolate');
  expect((await handle.describe()).status.name).not.toBe('TERMINATED');
  expect(decided.status).toBe('rejected');
  await handle.result();
});

test('alert storm keeps decisions in the report', async () => {
  const gates = { ...askOnlyIsolate, escalate: everySeverity(ask('1h', 'reject')) };
  const limits = { maxTimelineEntries: 30 };
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }), limits }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');
  await handle.executeUpdate(decideGateUpdate, {
    args: [{ gate: 'isolate', decision: 'reject', decider: first, channel: 'slack', reason: 'benign' }],
  });
  await gateOpen(handle, 'escalate');

  for (let index = 0; index < 100; index++) await handle.signal(alertsSignal, batchOf([testAlert()]));
  await waitForStatus(handle, (status) => status.alertCount === 101);
  await handle.executeUpdate(decideGateUpdate, {
    args: [{ gate: 'escalate', decision: 'reject', decider: first, channel: 'slack' }],
  });
  await handle.result();

  const record = callsFor(handle, 'writeIncidentReport')[0]?.input['record'] as IncidentRecord | undefined;
  const summaries = record?.timeline.map((entry) => entry.summary) ?? [];
  expect(record?.timelineDropped).toBeGreaterThan(0);
  expect(summaries.some((summary) => summary.startsWith('playbook workflow-test v3 pinned'))).toBe(true);
  expect(summaries).toContain(`${first} chose reject on gate isolate via slack`);
  expect(summaries).toContain(`${first} chose reject on gate escalate via slack`);
  expect(summaries.filter((summary) => summary.includes('new alerts')).length).toBeLessThanOrEqual(30);
});

test('page that failed before continue-as-new is sent again', async () => {
  const limits = { maxHistoryEvents: 60 };
  const playbook = testPlaybook({ gates: askOnlyIsolate });
  const batch = batchOf([testAlert({ priority: 'Critical' })]);
  const fingerprint = `${Date.now().toString(16)}`.padStart(16, '0');
  failFirstPage.add(`incident-${fingerprint}`);
  const handle = await startIncident(harness, { playbook, limits, fingerprint }, batch);
  await waitForStatus(handle, () => (pageAttempts.get(handle.workflowId) ?? 0) === 1);
  const firstRunId = (await handle.describe()).runId;

  for (let index = 0; index < 30; index++) await handle.signal(alertsSignal, batchOf([testAlert()]));
  const status = await waitForStatus(handle, (current) =>
    current.timeline.some((entry) => entry.summary.startsWith('paged the escalation target')),
  );

  expect((await handle.describe()).runId).not.toBe(firstRunId);
  expect(pageAttempts.get(handle.workflowId)).toBe(2);
  expect(status.timeline.some((entry) => entry.summary.startsWith('paging again after continue-as-new'))).toBe(true);
  await handle.terminate('test finished');
});
