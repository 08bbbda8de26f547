import type { GateName } from '../../domain/incident';
import { decideGateUpdate } from '../../workflows/messages';
import { approvers, ask, batchOf, everySeverity, testAlert, testPlaybook, trustedDigest } from './support/fixtures';
import { gateOpen, startHarness, startIncident, type Harness, type IncidentHandle } from './support/harness';
import { recordingActivities } from './support/recording-activities';

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
