import { defineSearchAttributeKey } from '@temporalio/common';
import { alertsSignal, decideGateUpdate, statusQuery } from '../../workflows/messages';
import { approvers, ask, batchOf, everySeverity, testAlert, testPlaybook } from './support/fixtures';
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

beforeAll(async () => {
  recording = recordingActivities({ delaysMs: { writeIncidentReport: 3000 } });
  harness = await startHarness(recording.activities);
});

afterAll(async () => {
  await harness.stop();
});

const [first] = approvers as [string];

function callsFor(handle: IncidentHandle, activity: string) {
  return recording.callsOf(activity).filter((call) => call.input['incidentId'] === handle.workflowId);
}

function recoveryPlaybook(
  restore: { quietPeriod: string; watchPeriod: string },
  restoreGate: Parameters<typeof everySeverity>[0] = ask('1h', 'reject'),
) {
  const base = testPlaybook({
    gates: {
      isolate: everySeverity({ mode: 'auto' }),
      escalate: everySeverity({ mode: 'skip' }),
      restore: everySeverity(restoreGate),
    },
  });
  return { ...base, restore: { ...base.restore, ...restore } };
}

test('resolved alerts never restart the quiet period', async () => {
  const playbook = recoveryPlaybook({ quietPeriod: '3s', watchPeriod: '1ms' });
  const handle = await startIncident(harness, { playbook }, batchOf([testAlert()]));
  await waitForStatus(handle, (status) => status.timeline.some((entry) => entry.summary.startsWith('quiet period')));

  for (let index = 0; index < 4; index++) {
    await handle.signal(alertsSignal, batchOf([testAlert({ status: 'resolved' })]));
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const status = await gateOpen(handle, 'restore');

  expect(status.alertCount).toBe(1);
  expect(status.resolvedCount).toBe(4);
  expect(status.timeline.filter((entry) => entry.summary.includes('quiet period starts again'))).toEqual([]);
  await handle.terminate('test finished');
});

test('resolved alerts during the watch page nobody', async () => {
  const playbook = recoveryPlaybook({ quietPeriod: '1s', watchPeriod: '4s' }, { mode: 'auto' });
  const handle = await startIncident(harness, { playbook }, batchOf([testAlert()]));
  await waitForStatus(handle, (status) => status.outcome === 'restored');

  await handle.signal(alertsSignal, batchOf([testAlert({ status: 'resolved' })]));
  const result = await handle.result();

  expect(result.outcome).toBe('restored');
  expect(callsFor(handle, 'escalateIncident')).toHaveLength(0);
  expect((await handle.query(statusQuery)).resolvedCount).toBe(1);
});

test('firing alert during close starts the next incident', async () => {
  const gates = {
    isolate: everySeverity(ask('1h', 'reject')),
    escalate: everySeverity({ mode: 'skip' as const }),
    restore: everySeverity({ mode: 'skip' as const }),
  };
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');
  const firstRunId = (await handle.describe()).runId;
  await handle.executeUpdate(decideGateUpdate, {
    args: [{ gate: 'isolate', decision: 'reject', decider: first, channel: 'slack' }],
  });
  await waitForStatus(handle, (status) => status.phase === 'closed');

  await handle.signal(alertsSignal, batchOf([testAlert({ priority: 'Critical' })]));
  const next = await waitForStatus(
    handle,
    (status) => status.previousRunId === firstRunId && status.waitingGate === 'isolate',
  );
  const closed = await harness.client.workflow.getHandle(handle.workflowId, firstRunId).query(statusQuery);

  expect(next.alertCount).toBe(1);
  expect(next.severity).toBe('P0');
  expect(next.phase).toBe('detect');
  expect(closed.phase).toBe('closed');
  expect(closed.alertCount).toBe(1);
  expect(
    closed.timeline.some(
      (entry) => entry.summary === '1 alerts arrived after the incident decided to close; they start the next incident',
    ),
  ).toBe(true);
  expect((await handle.describe()).runId).not.toBe(firstRunId);
  await handle.terminate('test finished');
});

test('alert keys combine the source and the id', async () => {
  const gates = {
    isolate: everySeverity(ask('1h', 'reject')),
    escalate: everySeverity({ mode: 'skip' as const }),
    restore: everySeverity({ mode: 'skip' as const }),
  };
  const fromFalco = testAlert({ id: 'shared-id' });
  const fromGeneric = testAlert({ id: 'shared-id', source: 'generic' });
  const handle = await startIncident(
    harness,
    { playbook: testPlaybook({ gates }) },
    batchOf([fromFalco, fromGeneric, testAlert({ id: 'shared-id' })]),
  );

  const status = await gateOpen(handle, 'isolate');

  expect(status.alertCount).toBe(2);
  expect(status.redeliveries).toBe(1);
  await handle.terminate('test finished');
});

test('long rule names are cut in the search attributes', async () => {
  const rule = `Terminal shell ${'é'.repeat(3000)}`;
  const gates = {
    isolate: everySeverity(ask('1h', 'reject')),
    escalate: everySeverity({ mode: 'skip' as const }),
    restore: everySeverity({ mode: 'skip' as const }),
  };
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert({ rule })]));

  await gateOpen(handle, 'isolate');
  const indexed = (await handle.describe()).typedSearchAttributes.get(
    defineSearchAttributeKey('FirebreakRule', 'KEYWORD'),
  );

  expect(indexed?.startsWith('Terminal shell é')).toBe(true);
  expect(Buffer.byteLength(JSON.stringify(indexed), 'utf8')).toBeLessThanOrEqual(1024);
  await handle.terminate('test finished');
});
