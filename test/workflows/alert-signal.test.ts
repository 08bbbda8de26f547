import { Worker } from '@temporalio/worker';
import type { AlertBatch } from '../../domain/incident';
import { alertsSignal, decideGateUpdate, statusQuery } from '../../workflows/messages';
import { approvers, ask, batchOf, everySeverity, testAlert, testPlaybook } from './support/fixtures';
import { gateOpen, startHarness, startIncident, waitForStatus, workflowBundle, type Harness } from './support/harness';
import { recordingActivities } from './support/recording-activities';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness(recordingActivities().activities);
});

afterAll(async () => {
  await harness.stop();
});

const [first] = approvers as [string];
const gates = {
  isolate: everySeverity(ask('1h', 'reject')),
  escalate: everySeverity({ mode: 'skip' }),
  restore: everySeverity({ mode: 'skip' }),
};

async function openIncident() {
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');
  return handle;
}

/** Signals a payload that is not an `AlertBatch`, as a client outside Firebreak could. */
async function signalPayload(handle: Awaited<ReturnType<typeof openIncident>>, payload: unknown): Promise<void> {
  // The signal's declared type is AlertBatch; the server passes any JSON payload through.
  await handle.signal(alertsSignal, payload as AlertBatch);
}

test('alerts signal with null alerts is dropped and recorded', async () => {
  const handle = await openIncident();
  const secret = 'payload-text-that-must-not-be-recorded';

  await signalPayload(handle, { alerts: null, count: 1, redeliveries: 0, receivedAt: secret });
  const status = await waitForStatus(handle, (candidate) => candidate.invalidAlertSignals === 1);

  const errors = status.timeline.filter((entry) => entry.kind === 'error');
  expect(errors).toHaveLength(1);
  expect(errors[0]?.summary).toContain('dropped an invalid alerts signal: alerts:');
  expect(JSON.stringify(status.timeline)).not.toContain(secret);
  expect(status.alertCount).toBe(1);
  await handle.terminate('test finished');
});

test('incident still decides after a malformed alerts signal', async () => {
  const handle = await openIncident();

  await signalPayload(handle, { alerts: null, count: 1, redeliveries: 0, receivedAt: 'x' });
  const result = await handle.executeUpdate(decideGateUpdate, {
    args: [{ gate: 'isolate', decision: 'reject', decider: first, channel: 'slack', reason: 'test' }],
  });
  await signalPayload(handle, batchOf([testAlert()]));
  const status = await waitForStatus(handle, (candidate) => candidate.alertCount === 2);

  expect(result.status).toBe('rejected');
  expect(status.gates.find((gate) => gate.gate === 'isolate')?.result?.status).toBe('rejected');
  expect(status.invalidAlertSignals).toBe(1);
  await handle.terminate('test finished');
});

test('repeated invalid alerts signals are counted, not each recorded', async () => {
  const handle = await openIncident();
  const payloads: unknown[] = [null, 'alerts', 42, [], { alerts: [{}], count: 1, receivedAt: 'x' }];

  for (let index = 0; index < 20; index++) await signalPayload(handle, payloads[index % payloads.length]);
  const status = await waitForStatus(handle, (candidate) => candidate.invalidAlertSignals === 20);

  const summaries = status.timeline.filter((entry) => entry.kind === 'error').map((entry) => entry.summary);
  // The first, then the 2nd, 4th, 8th and 16th.
  expect(summaries).toHaveLength(5);
  expect(summaries[4]).toContain('dropped 16 invalid alerts signals so far');
  for (const summary of summaries) expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(1024);
  await handle.terminate('test finished');
});

test('zod issue text on the timeline is cut short', async () => {
  const handle = await openIncident();
  const alerts = Array.from({ length: 50 }, () => ({ id: 'x'.repeat(200) }));

  await signalPayload(handle, { alerts, count: 50, receivedAt: 'x' });
  const status = await waitForStatus(handle, (candidate) => candidate.invalidAlertSignals === 1);

  const summary = status.timeline.find((entry) => entry.kind === 'error')?.summary ?? '';
  expect(summary).toContain('more issues');
  expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(600);
  await handle.terminate('test finished');
});

test('history with an invalid alerts signal replays', async () => {
  const handle = await openIncident();
  await signalPayload(handle, { alerts: null, count: 1, receivedAt: 'x' });
  await signalPayload(handle, batchOf(Array.from({ length: 100 }, () => testAlert())));
  await waitForStatus(handle, (candidate) => candidate.alertCount === 101);
  await handle.query(statusQuery);
  await handle.terminate('test finished');

  const history = await handle.fetchHistory();

  await expect(
    Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, handle.workflowId),
  ).resolves.toBeUndefined();
});
