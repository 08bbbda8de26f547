import { ApplicationFailure } from '@temporalio/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSlackActivities, createSlackWebClient } from '../../activities/notify/slack';
import { DEFAULT_RETRY_AFTER_SEC, MAX_RETRY_AFTER_SEC } from '../../activities/notify/slack-errors';

/** Response of the stand-in: an HTTP 429 with this Retry-After (absent when undefined), or an `ok: false` body. */
let answer: { retryAfter?: string; error?: string } = {};
let server: Server;
let apiUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (answer.error) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ok: false, error: answer.error }));
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter;
      response.writeHead(429, headers);
      response.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function updateFailure(): Promise<ApplicationFailure> {
  const activities = createSlackActivities({
    client: createSlackWebClient({ token: 'xoxb-firebreak-errors-test', slackApiUrl: apiUrl, timeoutMs: 2000 }),
    temporalUiBaseUrl: 'http://127.0.0.1:8233/namespaces/default',
    defaultChannel: 'C0000DEFLT',
  });
  try {
    await activities.updateGateMessage({
      incidentId: 'incident-00aa11bb22cc33dd',
      gate: 'isolate',
      status: 'approved',
      decision: 'approve',
      decider: 'U0000APPR1',
      at: '2030-01-01T00:00:00.000Z',
      channel: 'C0000SOC1',
      ts: '1700000000.000100',
    });
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected updateGateMessage to fail');
}

describe('Slack rate limits', () => {
  test.each([
    ['7', '7s'],
    ['0', '1s'],
    ['99999999', `${MAX_RETRY_AFTER_SEC}s`],
  ])('Retry-After %s waits %s', async (retryAfter, delay) => {
    answer = { retryAfter };
    const failure = await updateFailure();

    expect(failure.type).toBe('SlackRateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(delay);
  });

  test.each([undefined, 'abc', 'Wed, 21 Oct 2015 07:28:00 GMT'])(
    'Retry-After %j is a rate limit with the default wait',
    async (retryAfter) => {
      answer = { retryAfter };
      const failure = await updateFailure();

      expect(failure.type).toBe('SlackRateLimited');
      expect(failure.nonRetryable).toBe(false);
      expect(failure.nextRetryDelay).toBe(`${DEFAULT_RETRY_AFTER_SEC}s`);
    },
  );

  test('ratelimited in the body waits the default', async () => {
    answer = { error: 'ratelimited' };
    const failure = await updateFailure();

    expect(failure.type).toBe('SlackRateLimited');
    expect(failure.nextRetryDelay).toBe(`${DEFAULT_RETRY_AFTER_SEC}s`);
  });
});
