import type { WorkflowUpdateFailedError } from '@temporalio/client';
import type { GateName } from '../../domain/incident';
import { alertsSignal, decideGateUpdate, statusQuery } from '../../workflows/messages';
import { approvers, ask, batchOf, everySeverity, testAlert, testPlaybook, trustedDigest } from './support/fixtures';
import { gateOpen, startHarness, startIncident, type Harness, type IncidentHandle } from './support/harness';
import { recordedTarget, recordingActivities } from './support/recording-activities';

let harness: Harness;
let recording: ReturnType<typeof recordingActivities>;

beforeAll(async () => {
  recording = recordingActivities();
  harness = await startHarness(recording.activities);
});

afterAll(async () => {
  await harness.stop();
});

const [first, second] = approvers as [string, string];

async function decide(handle: IncidentHandle, gate: GateName, decision: 'approve' | 'reject', decider = first) {
  await gateOpen(handle, gate);
  return handle.executeUpdate(decideGateUpdate, {
    args: [{ gate, decision, decider, channel: 'cli', reason: `test ${decision}` }],
  });
}

function callsFor(handle: IncidentHandle, activity: string) {
  return recording.callsOf(activity).filter((call) => call.input['incidentId'] === handle.workflowId);
}

test('every gate approved contains, pages and restores in reverse order', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook() }, batchOf([testAlert()]));

  expect((await decide(handle, 'isolate', 'approve')).status).toBe('approved');
  expect((await decide(handle, 'escalate', 'approve', second)).status).toBe('approved');
  expect((await decide(handle, 'restore', 'approve')).status).toBe('approved');
  const result = await handle.result();

  expect(result.outcome).toBe('restored');
  expect(callsFor(handle, 'quarantinePod')).toHaveLength(1);
  expect(callsFor(handle, 'escalateIncident')).toHaveLength(1);
  const scale = callsFor(handle, 'scaleWorkload').map((call) => call.input['replicas']);
  expect(scale).toEqual([0, 3]);
  const undo = recording.calls
    .filter((call) => call.input['incidentId'] === handle.workflowId)
    .map((call) => call.activity)
    .filter((activity) => activity === 'releasePodQuarantine' || activity === 'scaleWorkload');
  expect(undo).toEqual(['scaleWorkload', 'scaleWorkload', 'releasePodQuarantine']);
  const rollout = callsFor(handle, 'restoreWorkload').map((call) => call.input['imageDigest']);
  expect(rollout).toEqual([`registry.example/shop/checkout@${trustedDigest}`]);
  expect(callsFor(handle, 'writeIncidentReport')).toHaveLength(1);
});

test('isolate rejected leaves the workload running', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook() }, batchOf([testAlert()]));

  expect((await decide(handle, 'isolate', 'reject')).status).toBe('rejected');
  expect((await decide(handle, 'escalate', 'reject')).status).toBe('rejected');
  const result = await handle.result();

  expect(result.outcome).toBe('closed without containment');
  expect(callsFor(handle, 'quarantinePod')).toHaveLength(0);
  expect(callsFor(handle, 'scaleWorkload')).toHaveLength(0);
  expect(callsFor(handle, 'escalateIncident')).toHaveLength(0);
});

test('restore rejected keeps containment in place', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook() }, batchOf([testAlert()]));

  await decide(handle, 'isolate', 'approve');
  await decide(handle, 'escalate', 'reject');
  expect((await decide(handle, 'restore', 'reject')).status).toBe('rejected');
  const result = await handle.result();

  expect(result.outcome).toBe('containment kept in place (restore gate rejected)');
  expect(callsFor(handle, 'quarantinePod')).toHaveLength(1);
  expect(callsFor(handle, 'releasePodQuarantine')).toHaveLength(0);
  expect(callsFor(handle, 'scaleWorkload').map((call) => call.input['replicas'])).toEqual([0]);
});

test('timed-out gates apply the playbook defaults and remind first', async () => {
  const gates = {
    isolate: everySeverity(ask('3s', 'approve', { reminderBefore: '2s' })),
    escalate: everySeverity(ask('2s', 'reject')),
    restore: everySeverity(ask('2s', 'approve')),
  };
  const playbook = testPlaybook({ gates, notify: { slackChannel: '#sec-incidents' } });
  const handle = await startIncident(harness, { playbook }, batchOf([testAlert()]));

  const result = await handle.result();

  expect(result.outcome).toBe('restored');
  expect(callsFor(handle, 'quarantinePod')).toHaveLength(1);
  expect(callsFor(handle, 'escalateIncident')).toHaveLength(0);
  expect(callsFor(handle, 'releasePodQuarantine')).toHaveLength(1);
  expect(callsFor(handle, 'postGateMessage').map((call) => call.input['gate'])).toEqual([
    'isolate',
    'escalate',
    'restore',
  ]);
  expect(callsFor(handle, 'postGateReminder').map((call) => call.input['gate'])).toEqual([
    'isolate',
    'escalate',
    'restore',
  ]);
  expect(callsFor(handle, 'postGateEscalation').map((call) => call.input['gate'])).toEqual([
    'isolate',
    'escalate',
    'restore',
  ]);
  const updates = callsFor(handle, 'updateGateMessage').map((call) => [call.input['gate'], call.input['status']]);
  expect(updates).toEqual([
    ['isolate', 'timed_out'],
    ['escalate', 'timed_out'],
    ['restore', 'timed_out'],
  ]);
});

test('isolate timing out with reject closes without containment', async () => {
  const gates = {
    isolate: everySeverity(ask('1s', 'reject')),
    escalate: everySeverity({ mode: 'skip' }),
    restore: everySeverity(ask('1h', 'reject')),
  };
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));

  const result = await handle.result();

  expect(result.outcome).toBe('closed without containment');
  expect(callsFor(handle, 'quarantinePod')).toHaveLength(0);
});

test('containment steps carry the resolved pod uid', async () => {
  const gates = {
    isolate: everySeverity({ mode: 'auto' as const }),
    escalate: everySeverity({ mode: 'skip' as const }),
    restore: everySeverity({ mode: 'skip' as const }),
  };
  const containment = [
    { action: 'quarantine' as const },
    { action: 'detach' as const },
    { action: 'delete-pod' as const },
  ];
  const handle = await startIncident(
    harness,
    { playbook: testPlaybook({ gates, containment }) },
    batchOf([testAlert()]),
  );

  await handle.result();

  expect(callsFor(handle, 'quarantinePod')[0]?.input['podUid']).toBe(recordedTarget.uid);
  expect(callsFor(handle, 'detachPod')[0]?.input['podUid']).toBe(recordedTarget.uid);
  expect(callsFor(handle, 'deletePod')[0]?.input['uid']).toBe(recordedTarget.uid);
});

test('severity rise into a skip policy closes the gate as skipped', async () => {
  const skip = { mode: 'skip' as const };
  const gates = {
    isolate: { P0: skip, P1: skip, P2: ask('1h', 'reject'), P3: ask('1h', 'reject') },
    escalate: everySeverity(skip),
    restore: everySeverity(skip),
  };
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert()]));
  await gateOpen(handle, 'isolate');

  await handle.signal(alertsSignal, batchOf([testAlert({ priority: 'Critical' })]));
  const result = await handle.result();

  const status = await handle.query(statusQuery);
  const isolate = status.gates.find((gate) => gate.gate === 'isolate')?.result;
  expect(isolate?.status).toBe('skipped');
  expect(isolate?.reason).toBe(
    'severity rose from P2 to P0, where the playbook skips gate isolate, so it does not act',
  );
  expect(result.outcome).toBe('closed without containment');
  expect(callsFor(handle, 'quarantinePod')).toHaveLength(0);
});

test('restore rolls out the image digest that the approver named', async () => {
  const base = testPlaybook();
  const playbook = { ...base, restore: { ...base.restore, trustedDigestSource: 'person' as const, trustedImages: {} } };
  const digest = `registry.example/shop/checkout@sha256:${'d'.repeat(64)}`;
  const handle = await startIncident(harness, { playbook }, batchOf([testAlert()]));
  await decide(handle, 'isolate', 'approve');
  await decide(handle, 'escalate', 'reject');
  await gateOpen(handle, 'restore');

  await handle.executeUpdate(decideGateUpdate, {
    args: [{ gate: 'restore', decision: 'approve', decider: first, channel: 'slack', imageDigest: digest }],
  });
  const result = await handle.result();

  expect(result.outcome).toBe('restored');
  expect(callsFor(handle, 'restoreWorkload').map((call) => call.input['imageDigest'])).toEqual([digest]);
  const status = await handle.query(statusQuery);
  expect(
    status.timeline.some((entry) => entry.summary === `Deployment/checkout container app rolled out on ${digest}`),
  ).toBe(true);
});

test('image digest is rejected when the playbook lists its own', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook() }, batchOf([testAlert()]));
  await decide(handle, 'isolate', 'approve');
  await decide(handle, 'escalate', 'reject');
  await gateOpen(handle, 'restore');

  const imageDigest = `registry.example/shop/checkout@sha256:${'e'.repeat(64)}`;
  const error = await handle
    .executeUpdate(decideGateUpdate, {
      args: [{ gate: 'restore', decision: 'approve', decider: first, channel: 'slack', imageDigest }],
    })
    .catch((failure: unknown) => failure);

  expect((error as WorkflowUpdateFailedError).cause?.message).toBe(
    'this playbook lists its trusted image digests itself, so a decision may not name one; leave out the image digest',
  );
  await handle.terminate('test finished');
});
