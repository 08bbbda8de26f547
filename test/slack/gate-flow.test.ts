import { standDownUpdate, type IncidentStatus } from '../../workflows/messages';
import { approver, channelId, operator, secondApprover, startGateHarness, type GateHarness } from './gate-harness';
import type { RecordedCall } from '../support/slack-stand-in';

/**
 * Gate decisions from Slack and from the CLI, on the Temporal dev server and the Kubernetes lab, with the
 * Slack stand-in as Slack's Web API and signed clicks sent to the real Bolt receiver.
 */

jest.setTimeout(180_000);

let harness: GateHarness;

beforeAll(async () => {
  harness = await startGateHarness();
});

afterAll(async () => {
  await harness?.close();
});

function gateOf(status: IncidentStatus, gate: string) {
  const view = status.gates.find((candidate) => candidate.gate === gate);
  if (view === undefined) throw new Error(`status has no ${gate} gate`);
  return view;
}

function edits(message: RecordedCall): RecordedCall[] {
  return harness.standIn
    .callsTo('chat.update')
    .filter((call) => call.args.ts === message.response?.ts && call.response?.ok === true);
}

async function ephemeralFor(user: string, after: number): Promise<string> {
  const call = await harness.standIn.waitForCall(
    'chat.postEphemeral',
    (candidate) => candidate.args.user === user && harness.standIn.calls.indexOf(candidate) >= after,
  );
  return String(call.args.text);
}

test('signed click approves a gate end to end', async () => {
  const incidentId = await harness.startIncident();
  const message = await harness.waitForGateMessage(incidentId, 'isolate');
  expect(message.response?.channel).toBe(channelId);
  expect(message.authorization).toBe('Bearer xoxb-firebreak-gate-test');

  const status = await harness.click(approver, 'approve', incidentId, 'isolate', message);
  expect(status).toBe(200);

  const edit = await harness.standIn.waitForCall('chat.update', (call) => call.args.ts === message.response?.ts);
  const blocks = JSON.stringify(edit.args.blocks);
  expect(blocks).toContain(`<@${approver}>`);
  expect(blocks).toContain('Approved');
  expect(blocks).not.toContain('firebreak_gate_approve');

  const after = await harness.waitForStatus(incidentId, (s) => gateOf(s, 'isolate').state === 'closed');
  expect(gateOf(after, 'isolate').result?.status).toBe('approved');
  expect(gateOf(after, 'isolate').result?.decider).toBe(approver);

  const restoreMessage = await harness.waitForGateMessage(incidentId, 'restore');
  expect(restoreMessage.response?.ts).not.toBe(message.response?.ts);
  const recovering = await harness.waitForStatus(incidentId, (s) => gateOf(s, 'restore').state === 'open');
  expect(recovering.phase).toBe('recover');
});

test('rejected clicks get an ephemeral reason', async () => {
  const incidentId = await harness.startIncident();
  const message = await harness.waitForGateMessage(incidentId, 'isolate');
  const open = await harness.waitForStatus(incidentId, (s) => gateOf(s, 'isolate').state === 'open');

  const strangerMark = harness.standIn.calls.length;
  expect(await harness.click('U0000STRNGR', 'approve', incidentId, 'isolate', message)).toBe(200);
  expect(await ephemeralFor('U0000STRNGR', strangerMark)).toContain('U0000STRNGR is not on the approver list');
  expect((await harness.status(incidentId)).gates).toEqual(open.gates);
  expect(edits(message)).toEqual([]);

  expect(await harness.click(approver, 'approve', incidentId, 'isolate', message)).toBe(200);
  const decided = await harness.waitForStatus(incidentId, (s) => gateOf(s, 'restore').state === 'open');
  const restoreMessage = await harness.waitForGateMessage(incidentId, 'restore');

  const decidedMark = harness.standIn.calls.length;
  expect(await harness.click(approver, 'reject', incidentId, 'isolate', message)).toBe(200);
  expect(await ephemeralFor(approver, decidedMark)).toContain('gate isolate was already decided: approved');
  expect((await harness.status(incidentId)).gates).toEqual(decided.gates);

  await harness.client.workflow.getHandle(incidentId).executeUpdate(standDownUpdate, {
    args: [{ reason: 'false positive', liftContainment: false, by: operator, channel: 'cli' }],
  });
  const closed = await harness.waitForStatus(incidentId, (s) => s.phase === 'closed');
  await harness.standIn.waitForCall('chat.update', (call) => call.args.ts === restoreMessage.response?.ts);
  const editsBefore = edits(restoreMessage).length;

  const closedMark = harness.standIn.calls.length;
  expect(await harness.click(approver, 'approve', incidentId, 'restore', restoreMessage)).toBe(200);
  expect(await ephemeralFor(approver, closedMark)).toContain(`incident ${incidentId} is closed`);
  const final = await harness.status(incidentId);
  expect(final.gates).toEqual(closed.gates);
  expect(final.phase).toBe('closed');
  expect(edits(restoreMessage)).toHaveLength(editsBefore);
});

test('two-person gate waits for a second approver', async () => {
  const incidentId = await harness.startIncident({ twoPerson: true });
  const message = await harness.waitForGateMessage(incidentId, 'isolate');

  const firstMark = harness.standIn.calls.length;
  expect(await harness.click(approver, 'approve', incidentId, 'isolate', message)).toBe(200);
  expect(await ephemeralFor(approver, firstMark)).toContain('A second, different approver must approve too');
  const [progress] = edits(message);
  expect(JSON.stringify(progress?.args.blocks)).toContain(`Approved by <@${approver}>; waiting for a second`);
  expect(JSON.stringify(progress?.args.blocks)).toContain('firebreak_gate_approve');
  const waiting = await harness.status(incidentId);
  expect(gateOf(waiting, 'isolate').state).toBe('open');
  expect(gateOf(waiting, 'isolate').approvals).toEqual([approver]);

  const repeatMark = harness.standIn.calls.length;
  expect(await harness.click(approver, 'approve', incidentId, 'isolate', message)).toBe(200);
  expect(await ephemeralFor(approver, repeatMark)).toContain('a second, different approver is needed');
  expect((await harness.status(incidentId)).gates).toEqual(waiting.gates);

  expect(await harness.click(secondApprover, 'approve', incidentId, 'isolate', message)).toBe(200);
  const closed = await harness.waitForStatus(incidentId, (s) => gateOf(s, 'isolate').state === 'closed');
  expect(gateOf(closed, 'isolate').result?.status).toBe('approved');
  await harness.standIn.waitForCall('chat.update', (call) =>
    JSON.stringify(call.args.blocks).includes(`by <@${secondApprover}>`),
  );
});

test('CLI decides while Slack is down and the message follows', async () => {
  await harness.standIn.goDown('refuse');
  const incidentId = await harness.startIncident().catch(async (error: unknown) => {
    await harness.standIn.comeBack();
    throw error;
  });
  let decidedAt: Date;
  try {
    await harness.waitForStatus(incidentId, (s) => gateOf(s, 'isolate').state === 'open');
    await new Promise((resolve) => setTimeout(resolve, 3000));

    const result = await harness.decideFromCli(incidentId, 'isolate', 'confirmed with the service owner by phone');
    expect(result).toMatchObject({ gate: 'isolate', status: 'approved', decider: operator });
    const decided = await harness.waitForStatus(incidentId, (s) => gateOf(s, 'isolate').state === 'closed');
    expect(gateOf(decided, 'isolate').result?.decider).toBe(operator);
    decidedAt = new Date();
  } finally {
    await harness.standIn.comeBack();
  }

  const message = await harness.waitForGateMessage(incidentId, 'isolate');
  expect(message.at.getTime()).toBeGreaterThanOrEqual(decidedAt.getTime());
  const edit = await harness.standIn.waitForCall(
    'chat.update',
    (call) => call.args.ts === message.response?.ts,
    60_000,
  );
  const blocks = JSON.stringify(edit.args.blocks);
  expect(blocks).toContain(`by \`${operator}\``);
  expect(blocks).toContain('confirmed with the service owner by phone');
});
