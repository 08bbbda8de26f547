import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { createEscalationActivities } from '../../../activities/notify/escalate';

/** A local stand-in for the PagerDuty Events API v2 enqueue endpoint that returns its documented response shapes. */
interface Received {
  path: string;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

let server: Server;
let url: string;
const received: Received[] = [];
let nextStatus = 202;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer((request, response) => {
    void readBody(request).then((text) => {
      const body = JSON.parse(text) as Record<string, unknown>;
      received.push({ path: request.url ?? '', contentType: request.headers['content-type'], body });
      response.writeHead(nextStatus, {
        'content-type': 'application/json',
        ...(nextStatus === 429 ? { 'retry-after': '7' } : {}),
      });
      const answer =
        nextStatus === 202
          ? { status: 'success', message: 'Event processed', dedup_key: body['dedup_key'] }
          : { status: 'invalid event', message: 'Event object is invalid', errors: ['Length of summary is invalid'] };
      response.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/enqueue`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received.length = 0;
  nextStatus = 202;
});

const env = { FIREBREAK_TEST_ROUTING_KEY: 'R0UTINGKEY0123456789ABCDEFGHIJKL' };

function input(overrides: Record<string, unknown> = {}) {
  return {
    incidentId: 'incident-3f9a0c2be41d7a55',
    target: { url, routingKeyEnv: 'FIREBREAK_TEST_ROUTING_KEY' },
    summary: 'Firebreak P1 incident incident-3f9a0c2be41d7a55: Terminal shell in container',
    severity: 'P1',
    source: 'firebreak',
    dedupKey: 'incident-3f9a0c2be41d7a55',
    ...overrides,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

test('escalateIncident posts a PagerDuty Events v2 trigger', async () => {
  const { escalateIncident } = createEscalationActivities({ env });

  const result = await escalateIncident(input());

  expect(result).toEqual({ status: 'success', dedupKey: 'incident-3f9a0c2be41d7a55' });
  expect(received).toHaveLength(1);
  expect(received[0]?.path).toBe('/v2/enqueue');
  expect(received[0]?.contentType).toBe('application/json');
  expect(received[0]?.body).toEqual({
    routing_key: env.FIREBREAK_TEST_ROUTING_KEY,
    event_action: 'trigger',
    dedup_key: 'incident-3f9a0c2be41d7a55',
    payload: {
      summary: 'Firebreak P1 incident incident-3f9a0c2be41d7a55: Terminal shell in container',
      source: 'firebreak',
      severity: 'error',
      component: 'incident-3f9a0c2be41d7a55',
      class: 'security-incident',
      custom_details: { incidentId: 'incident-3f9a0c2be41d7a55', firebreakSeverity: 'P1' },
    },
  });
});

test('escalateIncident cuts the summary to 1024 characters', async () => {
  const { escalateIncident } = createEscalationActivities({ env });

  await escalateIncident(input({ summary: 'é'.repeat(3000) }));

  const payload = received[0]?.body['payload'] as { summary: string };
  expect(Array.from(payload.summary)).toHaveLength(1024);
});

test('escalateIncident fails permanently without the routing key', async () => {
  const { escalateIncident } = createEscalationActivities({ env: {} });

  const failure = await failureOf(escalateIncident(input()));

  expect(failure.type).toBe('InvalidEscalation');
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toContain('FIREBREAK_TEST_ROUTING_KEY is not set');
  expect(received).toHaveLength(0);
});

test('escalateIncident treats 400 as permanent', async () => {
  nextStatus = 400;
  const { escalateIncident } = createEscalationActivities({ env });

  const failure = await failureOf(escalateIncident(input()));

  expect(failure.type).toBe('InvalidEscalation');
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toContain('responded 400');
});

test('escalateIncident retries 429 after Retry-After', async () => {
  nextStatus = 429;
  const { escalateIncident } = createEscalationActivities({ env });

  const failure = await failureOf(escalateIncident(input()));

  expect(failure.type).toBe('EscalationUnavailable');
  expect(failure.nonRetryable).toBe(false);
  expect(failure.nextRetryDelay).toBe(7000);
});

test('escalateIncident rejects invalid input', async () => {
  const { escalateIncident } = createEscalationActivities({ env });

  const failure = await failureOf(escalateIncident(input({ severity: 'P9' })));

  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toContain('severity');
});
