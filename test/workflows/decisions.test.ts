import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { DecideGateInput } from '../../domain/incident';
import { createFirebreakWorker } from '../../workers/worker';
import { alertsSignal, decideGateUpdate, gateDecisionRejectedType, statusQuery } from '../../workflows/messages';
import { testEnv } from '../support/env';
import { approvers, ask, batchOf, everySeverity, outsider, testAlert, testPlaybook } from './support/fixtures';
import {
  gateOpen,
  startHarness,
  startIncident,
  waitForStatus,
  workflowBundle,
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

test('two-person gate refuses two CLI approvals', async () => {
  const gates = { isolate: everySeverity(ask('1h', 'reject', { twoPerson: true })), ...skipLaterGates };
  const handle = await openIncident(gates);

  await handle.executeUpdate(decideGateUpdate, { args: [{ ...decision(first), channel: 'cli' }] });
  const bothCli = await rejectionOf(handle, { ...decision(second), channel: 'cli' });
  const verified = await handle.executeUpdate(decideGateUpdate, { args: [{ ...decision(second), channel: 'slack' }] });
  await handle.result();

  expect(bothCli).toContain('both approvals may not come through the CLI');
  expect(verified.status).toBe('approved');
  const status = await handle.query(statusQuery);
  const result = status.gates.find((gate) => gate.gate === 'isolate')?.result;
  expect(result).toMatchObject({ status: 'approved', decider: second, channel: 'slack' });
  expect(
    status.timeline.some(
      (entry) => entry.summary === `${first} chose approve on gate isolate via cli (waiting for a second approver)`,
    ),
  ).toBe(true);
});

test('severity rise drops approvals of people off the new list', async () => {
  const p0 = ask('1h', 'reject', { approvers: ['U0P0LEAD1', 'U0P0LEAD2'], twoPerson: true });
  const isolate = { P0: p0, P1: p0, P2: ask('1h', 'reject', { twoPerson: true }), P3: ask('1h', 'reject') };
  const handle = await openIncident({ isolate, ...skipLaterGates });
  await handle.executeUpdate(decideGateUpdate, { args: [decision(first)] });

  await handle.signal(alertsSignal, batchOf([testAlert({ priority: 'Critical' })]));
  const raised = await waitForStatus(handle, (status) => status.severity === 'P0');
  const afterRise = await handle.executeUpdate(decideGateUpdate, { args: [decision('U0P0LEAD1')] });

  expect(raised.gates.find((gate) => gate.gate === 'isolate')?.approvals).toEqual([]);
  expect(afterRise.status).toBe('open');
  expect(quarantinesOf(handle)).toBe(0);
  expect(
    raised.timeline.some(
      (entry) =>
        entry.summary === `gate isolate no longer counts the approval of ${first}: not on the P0 approver list`,
    ),
  ).toBe(true);
  await handle.terminate('test finished');
});

test('triggerer past twenty users is still refused', async () => {
  const gates = { isolate: everySeverity(ask('1h', 'reject', { forbidTriggerer: true })), ...skipLaterGates };
  const users = Array.from({ length: 20 }, (_, index) => testAlert({ user: `svc-${index}` }));
  const handle = await startIncident(harness, { playbook: testPlaybook({ gates }) }, batchOf(users));
  await gateOpen(handle, 'isolate');
  await handle.signal(alertsSignal, batchOf([testAlert({ user: third })]));
  await waitForStatus(handle, (status) => status.alertCount === 21);

  const reason = await rejectionOf(handle, decision(third));

  expect(reason).toContain(`${third} triggered this incident and may not decide gate isolate`);
  await handle.terminate('test finished');
});

test('decision after the deadline is rejected while the worker was down', async () => {
  const { address, namespace } = testEnv().temporal;
  const taskQueue = `deadline-${randomUUID()}`;
  const startWorker = async () => {
    const connection = await NativeConnection.connect({ address });
    const bundle = await workflowBundle();
    const worker = await createFirebreakWorker({
      connection,
      namespace,
      taskQueue,
      workflowBundle: bundle,
      activities: recording.activities,
    });
    const running = worker.run();
    return async () => {
      worker.shutdown();
      await running;
      await connection.close();
    };
  };
  let stopWorker = await startWorker();
  const gates = { isolate: everySeverity(ask('3s', 'reject')), ...skipLaterGates };
  const handle = await startIncident(
    { ...harness, taskQueue },
    { playbook: testPlaybook({ gates }) },
    batchOf([testAlert()]),
  );
  const open = await gateOpen(handle, 'isolate');
  await stopWorker();
  const deadlineAt = open.gates.find((gate) => gate.gate === 'isolate')?.deadlineAt ?? '';
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(deadlineAt) - Date.now()) + 3000));

  const late = rejectionOf(handle, decision(first));
  await new Promise((resolve) => setTimeout(resolve, 500));
  stopWorker = await startWorker();
  const reason = await late;
  await handle.result();
  const status = await handle.query(statusQuery);
  await stopWorker();

  expect(reason).toContain(
    `the deadline of gate isolate passed at ${deadlineAt}, so the playbook default (reject) applies`,
  );
  expect(status.gates.find((gate) => gate.gate === 'isolate')?.result?.status).toBe('timed_out');
  expect(quarantinesOf(handle)).toBe(0);
});

test('validator rejects an over-long reason and a control character in the decider', async () => {
  const handle = await openIncident();

  const longReason = await rejectionOf(handle, { ...decision(first), reason: 'r'.repeat(2001) });
  const controlDecider = await rejectionOf(handle, decision(`${first}\n`));

  expect(longReason).toContain('invalid gate decision: reason: must be at most 2000 characters');
  expect(controlDecider).toContain('invalid gate decision: decider: must be printable text');
  await handle.terminate('test finished');
});
