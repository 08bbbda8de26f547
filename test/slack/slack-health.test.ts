import pino from 'pino';
import { Registry } from 'prom-client';
import { slackHealthSettingsFromEnv } from '../../workers/health';
import { buildSlackApp } from '../../workers/slack/app';
import { GateDecisionRejected, type DecideResult, type GateDecisions } from '../../workers/slack/gate-decisions';
import { countGateDecisions, startSlackHealth } from '../../workers/slack/main';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-stand-in';
import { parsePrometheusText } from '../workers/prometheus-text';

const botToken = 'xoxb-firebreak-health-test';
const silent = pino({ level: 'silent' });
const decided: DecideResult = {
  gate: 'isolate',
  status: 'approved',
  decider: 'U0000APPR1',
  at: '2026-12-04T18:00:00Z',
};

function decisionsThat(decide: GateDecisions['decide']): GateDecisions {
  return {
    readIncident: async () => {
      throw new Error('readIncident is not used by these tests');
    },
    decide,
  };
}

async function readyz(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: await response.json() };
}

async function scrape(url: string) {
  return parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
}

describe('Slack app health', () => {
  let standIn: SlackStandIn;

  beforeAll(async () => {
    standIn = await startSlackStandIn([botToken]);
  });
  afterAll(() => standIn.close());

  test('HTTP mode is ready only while listening', async () => {
    const decisions = decisionsThat(async () => decided);
    const handle = buildSlackApp({
      mode: 'http',
      botToken,
      signingSecret: 'health-test-signing-secret',
      port: 0,
      host: '127.0.0.1',
      slackApiUrl: standIn.apiUrl,
      decisions,
      logger: silent,
    });
    const registry = new Registry();
    const health = await startSlackHealth(handle, { host: '127.0.0.1', port: 0, registry, logger: silent });
    try {
      expect(await readyz(health.url)).toEqual({
        status: 503,
        body: { status: 'not_ready', reason: 'slack_not_connected' },
      });

      await handle.start();
      expect(await readyz(health.url)).toEqual({ status: 200, body: { status: 'ready' } });
      const connected = (await scrape(health.url)).samples.find(
        (sample) => sample.name === 'firebreak_slack_connected',
      );
      expect(connected?.value).toBe(1);

      await handle.stop();
      expect(await readyz(health.url)).toEqual({
        status: 503,
        body: { status: 'not_ready', reason: 'slack_not_connected' },
      });
    } finally {
      await health.close();
    }
  });

  test('Socket Mode is not ready before it connects', async () => {
    const decisions = decisionsThat(async () => decided);
    const handle = buildSlackApp({ mode: 'socket', botToken, appToken: 'xapp-1-health', decisions, logger: silent });
    const registry = new Registry();
    const health = await startSlackHealth(handle, { host: '127.0.0.1', port: 0, registry, logger: silent });
    try {
      expect(handle.isReady()).toBe(false);
      expect((await readyz(health.url)).status).toBe(503);
      const connected = (await scrape(health.url)).samples.find(
        (sample) => sample.name === 'firebreak_slack_connected',
      );
      expect(connected?.value).toBe(0);
    } finally {
      await health.close();
    }
  });

  test('Slack health is off without a port', () => {
    expect(slackHealthSettingsFromEnv({})).toEqual({ host: '127.0.0.1', port: undefined });
    expect(slackHealthSettingsFromEnv({ FIREBREAK_SLACK_HEALTH_PORT: '9466' }).port).toBe(9466);
  });
});

describe('countGateDecisions', () => {
  test('counts decisions by outcome', async () => {
    const registry = new Registry();
    let calls = 0;
    const counted = countGateDecisions(
      decisionsThat(async () => {
        calls += 1;
        if (calls === 2) throw new GateDecisionRejected('gate isolate is not open');
        if (calls === 3) throw new Error('Temporal unavailable');
        return decided;
      }),
      registry,
    );
    const input = { gate: 'isolate', decision: 'approve', decider: 'U1', channel: 'slack' } as const;
    await expect(counted.decide('incident-0123', input)).resolves.toEqual(decided);
    await expect(counted.decide('incident-0123', input)).rejects.toBeInstanceOf(GateDecisionRejected);
    await expect(counted.decide('incident-0123', input)).rejects.toThrow('Temporal unavailable');

    const { samples } = parsePrometheusText(await registry.metrics());
    const byOutcome = Object.fromEntries(
      samples
        .filter((sample) => sample.name === 'firebreak_slack_gate_decisions_total')
        .map((sample) => [sample.labels['outcome'], sample.value]),
    );
    expect(byOutcome).toEqual({ decided: 1, rejected: 1, failed: 1 });
  });
});
