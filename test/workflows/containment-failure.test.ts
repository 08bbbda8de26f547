import type { IncidentRecord } from '../../domain/response';
import { decideGateUpdate, statusQuery } from '../../workflows/messages';
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
/** Activities that fail for every incident; a test empties it to let a retry succeed. */
const failing = new Set<string>();

beforeAll(async () => {
  recording = recordingActivities({ failWhen: (call) => failing.has(call.activity) });
  harness = await startHarness(recording.activities);
});

afterAll(async () => {
  await harness.stop();
});

beforeEach(() => {
  failing.clear();
});

const [first] = approvers as [string];
const gates = {
  isolate: everySeverity({ mode: 'auto' as const }),
  escalate: everySeverity({ mode: 'skip' as const }),
  restore: everySeverity(ask('1h', 'approve')),
};

function callsFor(handle: IncidentHandle, activity: string) {
  return recording.callsOf(activity).filter((call) => call.input['incidentId'] === handle.workflowId);
}

async function decideRetry(handle: IncidentHandle, decision: 'approve' | 'reject') {
  return handle.executeUpdate(decideGateUpdate, {
    args: [{ gate: 'isolate', decision, decider: first, channel: 'slack', reason: 'retry test' }],
  });
}

test('failed containment pages and asks a person with the error', async () => {
  failing.add('quarantinePod');
  failing.add('scaleWorkload');
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));

  const asking = await gateOpen(handle, 'isolate');
  await waitForStatus(handle, () => callsFor(handle, 'escalateIncident').length > 0);

  const isolate = asking.gates.find((gate) => gate.gate === 'isolate');
  expect(isolate?.askReason).toMatch(/^containment failed: quarantine: .*quarantinePod failed in the test/);
  expect(isolate?.onTimeout).toBe('reject');
  expect(asking.failedSteps).toEqual([{ step: 'quarantine', error: expect.stringContaining('quarantinePod failed') }]);
  const page = callsFor(handle, 'escalateIncident')[0]?.input;
  expect(page?.['dedupKey']).toBe(`${handle.workflowId}-containment-failed`);
  expect(page?.['details']).toEqual({ failedSteps: expect.stringContaining('quarantinePod failed in the test') });
  await handle.terminate('test finished');
});

test('containment that never happened ends containment failed without a restore gate', async () => {
  failing.add('quarantinePod');
  failing.add('scaleWorkload');
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');
  await decideRetry(handle, 'reject');
  await waitForStatus(handle, (status) => status.failedSteps.length === 2 && status.waitingGate === 'isolate');
  await decideRetry(handle, 'reject');

  const result = await handle.result();

  expect(result.outcome).toBe('containment failed (quarantine, scale-to-zero); no containment in place');
  const status = await handle.query(statusQuery);
  expect(status.gates.find((gate) => gate.gate === 'restore')?.state).toBe('pending');
  expect(callsFor(handle, 'releasePodQuarantine')).toHaveLength(0);
  expect(callsFor(handle, 'postGateMessage').filter((call) => call.input['gate'] === 'restore')).toHaveLength(0);
  expect(callsFor(handle, 'escalateIncident')).toHaveLength(2);
  const report = callsFor(handle, 'writeIncidentReport')[0]?.input['record'] as IncidentRecord | undefined;
  expect(report?.containment.map((step) => `${step.step}:${step.status}`)).toEqual([
    'quarantine:failed',
    'scale-to-zero:failed',
  ]);
});

test('approved retry runs only the failed step and goes on', async () => {
  failing.add('quarantinePod');
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');
  failing.clear();

  await decideRetry(handle, 'approve');
  await gateOpen(handle, 'restore');
  const status = await handle.query(statusQuery);

  expect(callsFor(handle, 'quarantinePod')).toHaveLength(2);
  expect(callsFor(handle, 'scaleWorkload')).toHaveLength(1);
  expect(status.failedSteps).toEqual([]);
  expect(status.gates.find((gate) => gate.gate === 'isolate')?.result?.status).toBe('approved');
  await handle.terminate('test finished');
});

test('restore after a partial containment lifts only what is in place', async () => {
  failing.add('quarantinePod');
  const partialGates = {
    isolate: everySeverity({ mode: 'auto' as const }),
    escalate: everySeverity(ask('1h', 'reject')),
    restore: everySeverity({ mode: 'auto' as const }),
  };
  const handle = await startIncident(
    harness,
    { playbook: testPlaybook({ gates: partialGates }) },
    batchOf([testAlert()]),
  );
  await gateOpen(handle, 'isolate');
  await decideRetry(handle, 'reject');
  await gateOpen(handle, 'escalate');
  await handle.executeUpdate(decideGateUpdate, {
    args: [{ gate: 'escalate', decision: 'reject', decider: first, channel: 'slack' }],
  });

  const result = await handle.result();

  expect(result.outcome).toBe('containment failed (quarantine); restored');
  expect(callsFor(handle, 'releasePodQuarantine')).toHaveLength(0);
  expect(callsFor(handle, 'scaleWorkload').map((call) => call.input['replicas'])).toEqual([0, 3]);
  expect(callsFor(handle, 'scaleWorkload')[1]?.input['restore']).toBe(true);
});
