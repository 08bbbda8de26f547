import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { DecideGateInput } from '../../domain/incident';
import { decideGateUpdate, gateDecisionRejectedType, statusQuery } from '../../workflows/messages';
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

beforeAll(async () => {
  recording = recordingActivities({ delaysMs: { writeIncidentReport: 3000 } });
  harness = await startHarness(recording.activities);
});

afterAll(async () => {
  await harness.stop();
});

const [first, second, third] = approvers as [string, string, string];
const skipLaterGates = { escalate: everySeverity({ mode: 'skip' }), restore: everySeverity({ mode: 'skip' }) };

function decision(decider: string, choice: 'approve' | 'reject' = 'approve'): DecideGateInput {
  return { gate: 'isolate', decision: choice, decider, channel: 'slack', reason: 'test' };
}

async function rejectionOf(handle: IncidentHandle, input: DecideGateInput): Promise<string> {
  const error: unknown = await handle.executeUpdate(decideGateUpdate, { args: [input] }).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause;
  return `${cause?.name ?? ''}:${cause?.message ?? ''}`;
}

function quarantinesOf(handle: IncidentHandle): number {
  return recording.callsOf('quarantinePod').filter((call) => call.input['incidentId'] === handle.workflowId).length;
}

async function openIncident(gates = { isolate: everySeverity(ask('1h', 'reject')), ...skipLaterGates }, user?: string) {
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf([testAlert({ user })]));
  await gateOpen(handle, 'isolate');
  return handle;
}

test('decideGate rejects a decider not on the list and records the attempt', async () => {
  const handle = await openIncident();
  const before = await handle.query(statusQuery);

  const reason = await rejectionOf(handle, decision(outsider));

  expect(reason).toContain(`${outsider} is not on the approver list of gate isolate`);
  const after = await handle.query(statusQuery);
  expect(after.timeline.at(-1)?.summary).toContain(`rejected approve on gate isolate by ${outsider}`);
  expect(after.timeline.at(-1)?.kind).toBe('decision');
  expect(after.gates).toEqual(before.gates);
  expect(after.waitingGate).toBe('isolate');
  expect(after.phase).toBe(before.phase);
  await handle.terminate('test finished');
});

test('decideGate failure carries the GateDecisionRejected type', async () => {
  const handle = await openIncident();

  const error = await handle.executeUpdate(decideGateUpdate, { args: [decision(outsider)] }).catch((e: unknown) => e);

  expect((error as WorkflowUpdateFailedError).cause).toMatchObject({ type: gateDecisionRejectedType });
  await handle.terminate('test finished');
});

test('racing decisions: exactly one wins and one containment runs', async () => {
  const handle = await openIncident();

  const attempts = await Promise.allSettled([
    handle.executeUpdate(decideGateUpdate, { args: [decision(first)] }),
    handle.executeUpdate(decideGateUpdate, { args: [decision(second)] }),
    handle.executeUpdate(decideGateUpdate, { args: [decision(third, 'reject')] }),
  ]);
  const winners = attempts.filter((attempt) => attempt.status === 'fulfilled');
  const losers = attempts.filter((attempt) => attempt.status === 'rejected');
  await handle.result();

  expect(winners).toHaveLength(1);
  expect(losers).toHaveLength(2);
  for (const loser of losers) {
    expect(String((loser.reason as WorkflowUpdateFailedError).cause?.message)).toContain('already decided');
  }
  const winner = winners[0];
  const approved = winner?.status === 'fulfilled' && winner.value.status === 'approved';
  expect(quarantinesOf(handle)).toBe(approved ? 1 : 0);
  const status = await handle.query(statusQuery);
  const rejectedAttempts = status.timeline.filter((entry) => entry.summary.startsWith('rejected '));
  expect(rejectedAttempts).toHaveLength(2);
});

test('two racing approvals run containment exactly once', async () => {
  const handle = await openIncident();

  const attempts = await Promise.allSettled([
    handle.executeUpdate(decideGateUpdate, { args: [decision(first)] }),
    handle.executeUpdate(decideGateUpdate, { args: [decision(second)] }),
  ]);
  await handle.result();

  expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(1);
  expect(quarantinesOf(handle)).toBe(1);
});

test('decision after close is rejected and recorded', async () => {
  const gates = { isolate: everySeverity(ask('1h', 'reject')), ...skipLaterGates };
  const handle = await openIncident(gates);
  await handle.executeUpdate(decideGateUpdate, { args: [decision(first, 'reject')] });
  await waitForStatus(handle, (status) => status.phase === 'closed');

  const whileClosing = await rejectionOf(handle, decision(second));
  await handle.result();
  const afterClose = await handle
    .executeUpdate(decideGateUpdate, { args: [decision(second)] })
    .catch((e: unknown) => e);

  expect(whileClosing).toContain(`incident ${handle.workflowId} is closed`);
  expect(afterClose).toBeInstanceOf(Error);
  const status = await handle.query(statusQuery);
  expect(status.timeline.some((entry) => entry.summary.includes(`rejected approve on gate isolate by ${second}`))).toBe(
    true,
  );
  expect(quarantinesOf(handle)).toBe(0);
});

test('two-person gate needs two different approvers', async () => {
  const gates = { isolate: everySeverity(ask('1h', 'reject', { twoPerson: true })), ...skipLaterGates };
  const handle = await openIncident(gates);

  const firstApproval = await handle.executeUpdate(decideGateUpdate, { args: [decision(first)] });
  const repeated = await rejectionOf(handle, decision(first));
  const pending = await handle.query(statusQuery);
  const secondApproval = await handle.executeUpdate(decideGateUpdate, { args: [decision(second)] });
  await handle.result();

  expect(firstApproval.status).toBe('open');
  expect(repeated).toContain('a second, different approver is needed');
  expect(pending.gates.find((gate) => gate.gate === 'isolate')?.approvals).toEqual([first]);
  expect(quarantinesOf(handle)).toBe(1);
  expect(secondApproval.status).toBe('approved');
});

test('empty approver list means nobody may decide', async () => {
  const gates = { isolate: everySeverity(ask('1h', 'reject', { approvers: [] })), ...skipLaterGates };
  const handle = await openIncident(gates);

  const reason = await rejectionOf(handle, decision(first));

  expect(reason).toContain('no approvers in the playbook, so nobody may decide it');
  expect((await handle.query(statusQuery)).waitingGate).toBe('isolate');
  await handle.terminate('test finished');
});

test('triggerer may not decide when the playbook forbids it', async () => {
  const gates = { isolate: everySeverity(ask('1h', 'reject', { forbidTriggerer: true })), ...skipLaterGates };
  const handle = await openIncident(gates, third);

  const reason = await rejectionOf(handle, decision(third));

  expect(reason).toContain(`${third} triggered this incident`);
  expect((await handle.query(statusQuery)).waitingGate).toBe('isolate');
  await handle.terminate('test finished');
});

test('validator rejects an unknown gate without a timeline entry', async () => {
  const handle = await openIncident();
  const before = await handle.query(statusQuery);

  const input = { ...decision(first), gate: 'launch' } as unknown as DecideGateInput;
  const reason = await rejectionOf(handle, input);

  expect(reason).toContain('invalid gate decision');
  const after = await handle.query(statusQuery);
  expect(after.timelineLength).toBe(before.timelineLength);
  await handle.terminate('test finished');
});

test('gate that is not open rejects a decision', async () => {
  const handle = await openIncident();

  const reason = await rejectionOf(handle, { ...decision(first), gate: 'restore' });

  expect(reason).toContain('gate restore is not open; the open gate is isolate');
  await handle.terminate('test finished');
});
