import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { DecideGateInput } from '../../domain/incident';
import { alertsSignal, decideGateUpdate } from '../../workflows/messages';
import { approvers, ask, batchOf, everySeverity, testAlert, testPlaybook } from './support/fixtures';
import { gateOpen, startHarness, startIncident, waitForStatus, type Harness } from './support/harness';
import { recordingActivities } from './support/recording-activities';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness(recordingActivities().activities);
});

afterAll(async () => {
  await harness.stop();
});

const [first, , third] = approvers as [string, string, string];
const gates = {
  isolate: everySeverity(ask('1h', 'reject', { forbidTriggerer: true })),
  escalate: everySeverity({ mode: 'skip' }),
  restore: everySeverity({ mode: 'skip' }),
};

function decision(decider: string): DecideGateInput {
  return { gate: 'isolate', decision: 'approve', decider, channel: 'cli', reason: 'test' };
}

async function rejectionOf(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  return (error as WorkflowUpdateFailedError).cause?.message ?? '';
}

/** Starts an incident whose first alert names `firstUser`, then floods it with more distinct users than it keeps. */
async function floodedIncident(firstUser: string) {
  const limits = { maxTriggerUsers: 5 };
  const playbook = testPlaybook({ gates });
  const handle = await startIncident(harness, { playbook, limits }, batchOf([testAlert({ user: firstUser })]));
  await gateOpen(handle, 'isolate');
  const flood = Array.from({ length: 20 }, (_, index) => testAlert({ user: `container-user-${index}` }));
  await handle.signal(alertsSignal, batchOf(flood));
  await waitForStatus(handle, (status) => status.alertCount === 21);
  return handle;
}

test('forbidTriggerer still accepts other approvers after a user flood', async () => {
  const handle = await floodedIncident('root');

  const result = await handle.executeUpdate(decideGateUpdate, { args: [decision(first)] });

  expect(result.status).toBe('approved');
  await handle.terminate('test finished');
});

test('forbidTriggerer rejects a recorded triggerer after a user flood', async () => {
  const handle = await floodedIncident(third);

  const reason = await rejectionOf(handle.executeUpdate(decideGateUpdate, { args: [decision(third)] }));

  expect(reason).toContain(`${third} triggered this incident and may not decide gate isolate`);
  await handle.terminate('test finished');
});

test('incomplete triggerer list is recorded once and shown in status', async () => {
  const handle = await floodedIncident('root');
  await handle.signal(alertsSignal, batchOf([testAlert({ user: 'another-user' })]));

  const status = await waitForStatus(handle, (candidate) => candidate.alertCount === 22);

  const notes = status.timeline.filter((entry) => entry.summary.includes('users who triggered this incident'));
  expect(notes).toHaveLength(1);
  expect(notes[0]?.summary).toContain('forbid only the first 5 users recorded');
  expect(status.triggerersIncomplete).toBe('more than 5 distinct users triggered alerts');
  await handle.terminate('test finished');
});

test('alerts counted without users leave forbidTriggerer gates decidable', async () => {
  const playbook = testPlaybook({ gates });
  const handle = await startIncident(harness, { playbook }, batchOf([testAlert({ user: 'root' })]));
  await gateOpen(handle, 'isolate');
  await handle.signal(alertsSignal, batchOf([testAlert({ user: 'root' })], { count: 500 }));
  const status = await waitForStatus(handle, (candidate) => candidate.triggerersIncomplete !== undefined);

  const result = await handle.executeUpdate(decideGateUpdate, { args: [decision(first)] });

  expect(status.triggerersIncomplete).toBe('499 alerts arrived as a count without their users');
  expect(result.status).toBe('approved');
  await handle.terminate('test finished');
});
