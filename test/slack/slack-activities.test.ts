import { ApplicationFailure } from '@temporalio/common';
import { createSlackActivities, createSlackWebClient, type PostGateMessageInput } from '../../activities/notify/slack';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-stand-in';

const botToken = 'xoxb-firebreak-activities-test';

const gateInput: PostGateMessageInput = {
  incidentId: 'incident-00aa11bb22cc33dd',
  runUrl: 'http://127.0.0.1:8233/namespaces/default/workflows/incident-00aa11bb22cc33dd',
  gate: 'isolate',
  severity: 'P2',
  targetSummary: 'shop/checkout-7d9f8b6c5-x2k4q (Deployment/checkout) on kwok-node-0',
  triggerSummary: 'Terminal shell in container (3 alerts)',
  choices: [
    { decision: 'approve', effect: 'quarantine the pod now' },
    { decision: 'reject', effect: 'leave the pod running and keep watching' },
  ],
  deadlineAt: '2030-01-01T00:00:00.000Z',
  onTimeout: 'reject',
  channel: 'C0000SOC1',
};

let standIn: SlackStandIn;

function activitiesFor(token: string) {
  return createSlackActivities({
    client: createSlackWebClient({ token, slackApiUrl: standIn.apiUrl, timeoutMs: 2000 }),
    temporalUiBaseUrl: 'http://127.0.0.1:8233/namespaces/default',
    defaultChannel: 'C0000DEFLT',
  });
}

/** Runs `call` and returns the ApplicationFailure it throws. */
async function failureOf(call: () => Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await call();
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  standIn = await startSlackStandIn([botToken]);
});

afterAll(async () => {
  await standIn.close();
});

beforeEach(() => {
  standIn.calls.length = 0;
});

test('postGateMessage posts blocks with the bot token', async () => {
  const ref = await activitiesFor(botToken).postGateMessage(gateInput);
  const [call] = standIn.callsTo('chat.postMessage');

  expect(ref.channel).toBe('C0000SOC1');
  expect(standIn.messages.has(`${ref.channel}/${ref.ts}`)).toBe(true);
  expect(call?.authorization).toBe(`Bearer ${botToken}`);
  expect(call?.contentType).toBe('application/x-www-form-urlencoded');
  expect(Array.isArray(call?.args.blocks)).toBe(true);
});

test('postGateMessage uses the default channel and run link', async () => {
  const { channel: _channel, runUrl: _runUrl, ...withoutChannel } = gateInput;
  const ref = await activitiesFor(botToken).postGateMessage(withoutChannel);

  expect(ref.channel).toBe('C0000DEFLT');
  expect(JSON.stringify(standIn.callsTo('chat.postMessage')[0]?.args.blocks)).toContain(
    'http://127.0.0.1:8233/namespaces/default/workflows/incident-00aa11bb22cc33dd',
  );
});

test('updateGateMessage replaces the message with the outcome', async () => {
  const activities = activitiesFor(botToken);
  const ref = await activities.postGateMessage(gateInput);
  await activities.updateGateMessage({
    ...ref,
    incidentId: gateInput.incidentId,
    gate: 'isolate',
    status: 'approved',
    decision: 'approve',
    decider: 'U0000APPR1',
    at: '2029-12-31T23:00:00.000Z',
  });
  const stored = standIn.messages.get(`${ref.channel}/${ref.ts}`);

  expect(stored?.edits).toBe(1);
  expect(JSON.stringify(stored?.blocks)).toContain('<@U0000APPR1>');
  expect(JSON.stringify(stored?.blocks)).not.toContain('firebreak_gate_approve');
});

test('reminder and escalation thread on the gate message', async () => {
  const activities = activitiesFor(botToken);
  const ref = await activities.postGateMessage(gateInput);
  const reminderInput = { ...ref, incidentId: gateInput.incidentId, gate: 'isolate' as const };
  await activities.postGateReminder({
    ...reminderInput,
    deadlineAt: gateInput.deadlineAt,
    mention: '<!subteam^S0SEC>',
  });
  await activities.postGateEscalation({ ...reminderInput, mention: 'U0000ONCALL' });
  const [reminder, escalation] = standIn.callsTo('chat.postMessage').slice(1);

  expect(reminder?.args.thread_ts).toBe(ref.ts);
  expect(String(reminder?.args.text).startsWith('<!subteam^S0SEC> Reminder:')).toBe(true);
  expect(escalation?.args.thread_ts).toBe(ref.ts);
  expect(escalation?.args.reply_broadcast).toBe('true');
  expect(String(escalation?.args.text).startsWith('<@U0000ONCALL> Nobody decided')).toBe(true);
});

test('invalid token fails without retry', async () => {
  const failure = await failureOf(() => activitiesFor('xoxb-wrong').postGateMessage(gateInput));

  expect(failure.type).toBe('SlackRejected');
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toContain('invalid_auth');
  expect(failure.message).toContain('SLACK_BOT_TOKEN');
});

test('editing a deleted message fails without retry', async () => {
  const failure = await failureOf(() =>
    activitiesFor(botToken).updateGateMessage({
      channel: 'C0000SOC1',
      ts: '1.000001',
      incidentId: gateInput.incidentId,
      gate: 'isolate',
      status: 'rejected',
      at: '2029-12-31T23:00:00.000Z',
    }),
  );

  expect(failure.type).toBe('SlackRejected');
  expect(failure.message).toContain('message_not_found');
});

test('refused connection is retryable', async () => {
  await standIn.goDown('refuse');
  try {
    const failure = await failureOf(() => activitiesFor(botToken).postGateMessage(gateInput));

    expect(failure.type).toBe('SlackUnavailable');
    expect(failure.nonRetryable).toBe(false);
  } finally {
    await standIn.comeBack();
  }
});

test('HTTP 503 is retryable', async () => {
  await standIn.goDown('unavailable');
  try {
    const failure = await failureOf(() => activitiesFor(botToken).postGateMessage(gateInput));

    expect(failure.type).toBe('SlackUnavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('HTTP 503');
  } finally {
    await standIn.comeBack();
  }
  await expect(activitiesFor(botToken).postGateMessage(gateInput)).resolves.toHaveProperty('ts');
});

test('invalid input fails without calling Slack', async () => {
  const failure = await failureOf(() =>
    activitiesFor(botToken).postGateMessage({ ...gateInput, incidentId: 'incident-<!channel>' }),
  );

  expect(failure.type).toBe('SlackInvalidInput');
  expect(failure.message).toContain('incidentId');
  expect(standIn.calls).toEqual([]);
});

test('resolveApproverGroups expands user groups into members', async () => {
  standIn.userGroups.set('S0SECURITY', ['U0000APPR1', 'U0000APPR2']);
  const resolved = await activitiesFor(botToken).resolveApproverGroups({
    approvers: ['U0000APPR2', 'S0SECURITY', 'alice'],
  });

  expect(resolved.approvers).toEqual(['U0000APPR2', 'alice', 'U0000APPR1']);
  expect(resolved.groups).toEqual([{ group: 'S0SECURITY', members: ['U0000APPR1', 'U0000APPR2'] }]);
  expect(standIn.callsTo('usergroups.users.list')[0]?.args.usergroup).toBe('S0SECURITY');
});

test('resolveApproverGroups fails on an unknown group', async () => {
  const failure = await failureOf(() => activitiesFor(botToken).resolveApproverGroups({ approvers: ['S0MISSING'] }));

  expect(failure.type).toBe('SlackRejected');
  expect(failure.message).toContain('no_such_subteam');
});
