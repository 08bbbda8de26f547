import type { WorkflowUpdateFailedError } from '@temporalio/client';
import type { GateName } from '../../domain/incident';
import { decideGateUpdate, statusQuery } from '../../workflows/messages';
import { approvers, batchOf, testAlert, testPlaybook } from './support/fixtures';
import { gateOpen, startHarness, startIncident, type Harness, type IncidentHandle } from './support/harness';
import { recordingActivities } from './support/recording-activities';

/** Incidents whose rollout fails. */
const failingRollout = new Set<string>();
/** Delay of the escalation activity double, longer than the test waits for the next gate. */
const slowPageMs = 12_000;

let harness: Harness;
let recording: ReturnType<typeof recordingActivities>;

beforeAll(async () => {
  recording = recordingActivities({
    failWhen: (call) => call.activity === 'restoreWorkload' && failingRollout.has(String(call.input['incidentId'])),
    delaysMs: { escalateIncident: slowPageMs },
  });
  harness = await startHarness(recording.activities);
});

afterAll(async () => {
  await harness.stop();
});

const [first] = approvers as [string];

function personPlaybook() {
  const base = testPlaybook();
  return testPlaybook({
    restore: { ...base.restore, trustedDigestSource: 'person', trustedImages: {} },
  });
}

async function decide(handle: IncidentHandle, gate: GateName, decision: 'approve' | 'reject', imageDigest?: string) {
  await gateOpen(handle, gate);
  const digest = imageDigest === undefined ? {} : { imageDigest };
  return handle.executeUpdate(decideGateUpdate, {
    args: [{ gate, decision, decider: first, channel: 'cli', reason: `test ${decision}`, ...digest }],
  });
}

function callsFor(handle: IncidentHandle, activity: string) {
  return recording.callsOf(activity).filter((call) => call.input['incidentId'] === handle.workflowId);
}

test('restore rejects a digest from another repository', async () => {
  const handle = await startIncident(harness, { playbook: personPlaybook() }, batchOf([testAlert()]));
  await decide(handle, 'isolate', 'approve');
  await decide(handle, 'escalate', 'reject');

  const evil = `evil.example/miner@sha256:${'b'.repeat(64)}`;
  const error = await decide(handle, 'restore', 'approve', evil).catch((failure: unknown) => failure);

  const message = (error as WorkflowUpdateFailedError).cause?.message;
  expect(message).toBe(
    `image ${evil} is not from a repository of the target's containers (registry.example/shop/checkout); ` +
      'name a digest of one of them',
  );
  const status = await handle.query(statusQuery);
  expect(status.waitingGate).toBe('restore');
  expect(status.timeline.some((entry) => entry.summary.includes(`rejected approve on gate restore by ${first}`))).toBe(
    true,
  );
  expect(callsFor(handle, 'releasePodQuarantine')).toHaveLength(0);
  await handle.terminate('test finished');
});

test('restore rejects a mistyped repository name', async () => {
  const handle = await startIncident(harness, { playbook: personPlaybook() }, batchOf([testAlert()]));
  await decide(handle, 'isolate', 'approve');
  await decide(handle, 'escalate', 'reject');

  const mistyped = `registry.example/shop/checkout-apl@sha256:${'b'.repeat(64)}`;
  const error = await decide(handle, 'restore', 'approve', mistyped).catch((failure: unknown) => failure);

  expect((error as WorkflowUpdateFailedError).cause?.message).toContain(`image ${mistyped} is not from a repository`);
  expect((await handle.query(statusQuery)).waitingGate).toBe('restore');
  await handle.terminate('test finished');
});

test('failed rollout keeps containment and pages', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook() }, batchOf([testAlert()]));
  failingRollout.add(handle.workflowId);
  await decide(handle, 'isolate', 'approve');
  await decide(handle, 'escalate', 'reject');
  await decide(handle, 'restore', 'approve');

  const result = await handle.result();

  expect(result.outcome).toMatch(/^restore incomplete: containment kept in place because the rollout failed: /);
  expect(callsFor(handle, 'restoreWorkload')).toHaveLength(1);
  expect(callsFor(handle, 'releasePodQuarantine')).toHaveLength(0);
  expect(callsFor(handle, 'scaleWorkload').map((call) => call.input['replicas'])).toEqual([0]);
  const pages = callsFor(handle, 'escalateIncident').map((call) => call.input['dedupKey']);
  expect(pages).toEqual([`${handle.workflowId}-restore`]);
});

test('slow page does not hold up eradication', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook() }, batchOf([testAlert()]));
  await decide(handle, 'isolate', 'approve');
  await decide(handle, 'escalate', 'approve');
  const approvedAtMs = Date.now();

  await gateOpen(handle, 'restore', slowPageMs - 4_000);

  expect(Date.now() - approvedAtMs).toBeLessThan(slowPageMs);
  expect(callsFor(handle, 'scaleWorkload').map((call) => call.input['replicas'])).toEqual([0]);
  await decide(handle, 'restore', 'approve');
  const result = await handle.result();
  expect(result.outcome).toBe('restored');
  const status = await handle.query(statusQuery);
  const paged = status.timeline.find((entry) => entry.summary.startsWith('paged the escalation target: '));
  expect(paged).toBeDefined();
  const closed = status.timeline.find((entry) => entry.summary === 'incident report written');
  expect(closed).toBeDefined();
  expect((paged?.at ?? '') <= (closed?.at ?? '')).toBe(true);
});
