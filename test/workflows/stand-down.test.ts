import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { StandDownInput } from '../../domain/incident';
import type { IncidentRecord } from '../../domain/response';
import { decideGateUpdate, standDownRejectedType, standDownUpdate, statusQuery } from '../../workflows/messages';
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
  recording = recordingActivities({ delaysMs: { restoreWorkload: 3000 } });
  harness = await startHarness(recording.activities);
});

afterAll(async () => {
  await harness.stop();
});

const [first, second] = approvers as [string, string];
const restorers = ['U0RESTORER1', 'U0RESTORER2'];

/** Isolation is automatic; the escalate gate asks the test approvers, the restore gate only the restorers. */
function standDownPlaybook(restore = ask('1h', 'reject', { approvers: restorers })) {
  return testPlaybook({
    gates: {
      isolate: everySeverity({ mode: 'auto' }),
      escalate: everySeverity(ask('1h', 'reject')),
      restore: everySeverity(restore),
    },
  });
}

function callsFor(handle: IncidentHandle, activity: string) {
  return recording.callsOf(activity).filter((call) => call.input['incidentId'] === handle.workflowId);
}

function request(by: string, liftContainment: boolean, channel: StandDownInput['channel'] = 'cli'): StandDownInput {
  return { reason: 'false positive', liftContainment, by, channel };
}

async function rejectionOf(handle: IncidentHandle, input: StandDownInput): Promise<{ type?: string; message: string }> {
  const error: unknown = await handle.executeUpdate(standDownUpdate, { args: [input] }).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause as (Error & { type?: string }) | undefined;
  return { type: cause?.type, message: cause?.message ?? '' };
}

async function contained(playbook = standDownPlaybook()): Promise<IncidentHandle> {
  const handle = await startIncident(harness, { playbook }, batchOf([testAlert()]));
  await gateOpen(handle, 'escalate');
  return handle;
}

test('stand-down by a non-approver is rejected and recorded', async () => {
  const handle = await contained();

  const rejection = await rejectionOf(handle, request(outsider, false));

  expect(rejection.type).toBe(standDownRejectedType);
  expect(rejection.message).toBe(
    `${outsider} is not an approver of any gate at P2, so may not stand the incident down`,
  );
  const status = await handle.query(statusQuery);
  expect(status.standDown).toBeUndefined();
  expect(status.waitingGate).toBe('escalate');
  expect(status.rejectedAttempts).toBe(1);
  expect(status.timeline.at(-1)?.summary).toContain(`rejected stand-down by ${outsider} via cli`);
  await handle.terminate('test finished');
});

test('lifting containment needs a restore approver', async () => {
  const handle = await contained();

  const byEscalateApprover = await rejectionOf(handle, request(first, true));
  const accepted = await handle.executeUpdate(standDownUpdate, { args: [request('U0RESTORER1', true)] });
  const result = await handle.result();

  expect(byEscalateApprover.message).toBe(
    `${first} is not on the approver list of lifting containment (the restore gate at P2)`,
  );
  expect(accepted).toMatchObject({ status: 'accepted', liftContainment: true, approvals: ['U0RESTORER1'] });
  expect(result.outcome).toBe('stood down by U0RESTORER1, containment lifted');
  expect(callsFor(handle, 'releasePodQuarantine')).toHaveLength(1);
});

test('empty restore approver list lets nobody lift containment', async () => {
  const handle = await contained(standDownPlaybook(ask('1h', 'reject', { approvers: [] })));

  const lift = await rejectionOf(handle, request(first, true));
  await handle.executeUpdate(standDownUpdate, { args: [request(first, false)] });
  const result = await handle.result();

  expect(lift.message).toBe(
    'lifting containment (the restore gate at P2) has no approvers in the playbook, so nobody may decide it',
  );
  expect(result.outcome).toBe(`stood down by ${first}, containment left in place`);
  expect(callsFor(handle, 'releasePodQuarantine')).toHaveLength(0);
});

test('two-person lift needs two approvers, not both from the CLI', async () => {
  const handle = await contained(standDownPlaybook(ask('1h', 'reject', { approvers: restorers, twoPerson: true })));

  const firstRequest = await handle.executeUpdate(standDownUpdate, { args: [request('U0RESTORER1', true)] });
  const repeated = await rejectionOf(handle, request('U0RESTORER1', true));
  const bothCli = await rejectionOf(handle, request('U0RESTORER2', true));
  const pendingStatus = await handle.query(statusQuery);
  const secondRequest = await handle.executeUpdate(standDownUpdate, { args: [request('U0RESTORER2', true, 'slack')] });
  const result = await handle.result();

  expect(firstRequest).toMatchObject({ status: 'pending', approvals: ['U0RESTORER1'], requiredApprovals: 2 });
  expect(repeated.message).toContain('U0RESTORER1 already approved lifting containment');
  expect(bothCli.message).toContain('both approvals may not come through the CLI');
  expect(pendingStatus.standDown).toBeUndefined();
  expect(pendingStatus.liftRequest).toEqual({ approvals: ['U0RESTORER1'], requiredApprovals: 2 });
  expect(secondRequest).toMatchObject({ status: 'accepted', approvals: ['U0RESTORER1', 'U0RESTORER2'] });
  expect(result.outcome).toBe('stood down by U0RESTORER2, containment lifted');
  const report = callsFor(handle, 'writeIncidentReport')[0]?.input['record'] as IncidentRecord | undefined;
  expect(report?.standDown?.approvals?.map((approval) => approval.channel)).toEqual(['cli', 'slack']);
});

test('stand-down during restore reports what the restore did', async () => {
  const handle = await startIncident(harness, { playbook: testPlaybook() }, batchOf([testAlert()]));
  for (const gate of ['isolate', 'escalate', 'restore'] as const) {
    await gateOpen(handle, gate);
    const decision = gate === 'escalate' ? 'reject' : 'approve';
    await handle.executeUpdate(decideGateUpdate, { args: [{ gate, decision, decider: first, channel: 'slack' }] });
  }
  await waitForStatus(handle, () => callsFor(handle, 'restoreWorkload').length > 0);

  await handle.executeUpdate(standDownUpdate, { args: [request(second, false)] });
  const result = await handle.result();

  expect(result.outcome).toBe(`stood down by ${second} after the restore had run: restored`);
  expect(callsFor(handle, 'releasePodQuarantine')).toHaveLength(1);
});

test('stand-down stops the clocks of unfinished phases', async () => {
  const handle = await contained();

  await handle.executeUpdate(standDownUpdate, { args: [request(first, false)] });
  await handle.result();

  const report = callsFor(handle, 'writeIncidentReport')[0]?.input['record'] as IncidentRecord | undefined;
  const clocks = Object.fromEntries((report?.clocks ?? []).map((clock) => [clock.name, clock]));
  expect(clocks['detect']?.metAt).toBeDefined();
  expect(clocks['isolate']?.metAt).toBeUndefined();
  expect(clocks['isolate']?.stoppedAt).toBeDefined();
  expect(clocks['eradicate']?.metAt).toBeUndefined();
  expect(clocks['eradicate']?.stoppedAt).toBeDefined();
  const summaries = report?.timeline.map((entry) => entry.summary) ?? [];
  expect(summaries).not.toContain('eradicate target met');
  expect(summaries).toContain('eradicate clock stopped: the incident was stood down before the eradicate phase ended');
});

test('stand-down validator rejects an empty reason', async () => {
  const handle = await contained();
  const before = await handle.query(statusQuery);

  const rejection = await rejectionOf(handle, { ...request(first, false), reason: ' ' });

  expect(rejection.message).toBe('invalid stand-down: reason: must not be empty or blank');
  expect((await handle.query(statusQuery)).timelineLength).toBe(before.timelineLength);
  await handle.terminate('test finished');
});
