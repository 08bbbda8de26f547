import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { z } from 'zod';
import { buildSlackApp, type SlackAppHandle } from '../../workers/slack/app';
import { GateDecisionRejected, type GateDecisions } from '../../workers/slack/gate-decisions';
import { blockActionsPayload, interactionBody, sendSlackRequest, signedSlackRequest } from '../support/slack-signing';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-stand-in';

/**
 * Interaction requests signed and tampered with as in the recorded case: only the request signed over its
 * exact raw body, within five minutes of the clock, is accepted. Every other one gets 401 and reaches neither
 * a Bolt listener nor Slack's Web API.
 */

const variantSchema = z.object({
  nowEpochSeconds: z.number().optional(),
  headers: z.record(z.string(), z.string()),
  rawBody: z.string(),
});
const caseSchema = z.object({
  signingSecret: z.string(),
  nowEpochSeconds: z.number(),
  contentType: z.string(),
  variants: z.record(z.string(), variantSchema),
});
const signatureCase = caseSchema.parse(
  JSON.parse(readFileSync(join(__dirname, 'fixtures', 'signature-raw-body.json'), 'utf8')),
);

const botToken = 'xoxb-firebreak-signature-test';
/** Only Date is faked, so that requests can carry the recorded timestamps; timers and I/O run for real. */
const realTimers = [
  'hrtime',
  'nextTick',
  'performance',
  'queueMicrotask',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
] as const;

let standIn: SlackStandIn;
let handle: SlackAppHandle;
let url: string;
const reachedBolt = jest.fn();
const decisions: GateDecisions = {
  readIncident: jest.fn(async (incidentId: string) => {
    throw new GateDecisionRejected(`incident ${incidentId} was not found`);
  }),
  decide: jest.fn(),
};

beforeAll(async () => {
  standIn = await startSlackStandIn([botToken]);
  handle = buildSlackApp({
    mode: 'http',
    botToken,
    signingSecret: signatureCase.signingSecret,
    port: 0,
    host: '127.0.0.1',
    slackApiUrl: standIn.apiUrl,
    decisions,
    logger: pino({ level: 'silent' }),
  });
  handle.app.use(async ({ next }) => {
    reachedBolt();
    await next();
  });
  ({ url: url = '' } = await handle.start());
});

afterAll(async () => {
  jest.useRealTimers();
  await handle.stop();
  await standIn.close();
});

beforeEach(() => {
  standIn.calls.length = 0;
  reachedBolt.mockClear();
});

function setClock(epochSec: number): void {
  jest.useFakeTimers({ now: epochSec * 1000, doNotFake: [...realTimers] });
}

async function send(name: string) {
  const variant = signatureCase.variants[name];
  if (variant === undefined) {
    throw new Error(`the signature case has no variant ${name}`);
  }
  setClock(variant.nowEpochSeconds ?? signatureCase.nowEpochSeconds);
  const headers = { 'content-type': signatureCase.contentType, ...variant.headers };
  return sendSlackRequest(url, { headers, rawBody: variant.rawBody });
}

test('valid signed request is acknowledged within three seconds', async () => {
  const response = await send('A_valid');

  expect(response.status).toBe(200);
  expect(response.durationMs).toBeLessThan(3000);
  expect(reachedBolt).toHaveBeenCalledTimes(1);
  const reply = await standIn.waitForCall('chat.postEphemeral');
  expect(reply.args.user).toBe('U0000APPR1');
  expect(reply.args.channel).toBe('C0000SOC1');
  expect(reply.authorization).toBe(`Bearer ${botToken}`);
});

const tampered = [
  'B_reserialized_body_same_signature',
  'C_stale_timestamp_replay',
  'D_future_timestamp',
  'E_tampered_value',
  'F_missing_headers',
  'G_signature_wrong_length',
];

test.each(tampered)('tampered request %s is rejected with 401', async (name) => {
  const response = await send(name);
  await new Promise((resolve) => setTimeout(resolve, 200));

  expect(response.status).toBe(401);
  expect(reachedBolt).not.toHaveBeenCalled();
  expect(decisions.readIncident).not.toHaveBeenCalled();
  expect(standIn.calls).toEqual([]);
});

test('request signed with another secret is rejected', async () => {
  jest.useRealTimers();
  const body = interactionBody(
    blockActionsPayload({
      userId: 'U0000APPR1',
      channelId: 'C0000SOC1',
      messageTs: '1733312000.000100',
      actionId: 'firebreak_gate_approve',
      value: JSON.stringify({ incidentId: 'incident-0123456789abcdef', gate: 'isolate' }),
    }),
  );
  const response = await sendSlackRequest(url, signedSlackRequest('another-secret', body));

  expect(response.status).toBe(401);
  expect(reachedBolt).not.toHaveBeenCalled();
  expect(standIn.calls).toEqual([]);
});

test('oversized body is rejected before verification', async () => {
  jest.useRealTimers();
  const body = `payload=${'x'.repeat(1024 * 1024 + 1)}`;
  const response = await sendSlackRequest(url, signedSlackRequest(signatureCase.signingSecret, body));

  expect(response.status).toBe(413);
  expect(reachedBolt).not.toHaveBeenCalled();
});

test('HTTP mode requires a signing secret', () => {
  const build = () =>
    buildSlackApp({ mode: 'http', botToken, signingSecret: '', decisions, logger: pino({ level: 'silent' }) });

  expect(build).toThrow(/signingSecret/);
});
