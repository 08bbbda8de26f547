import pino from 'pino';
import { buildSlackApp } from '../../workers/slack/app';
import type { GateDecisions } from '../../workers/slack/gate-decisions';
import { loadSlackWorkerEnv, slackAppOptionsFromEnv } from '../../workers/slack/main';

const decisions: GateDecisions = {
  readIncident: async () => {
    throw new Error('not used');
  },
  decide: async () => {
    throw new Error('not used');
  },
};
const silent = pino({ level: 'silent' });

describe('loadSlackWorkerEnv', () => {
  test('reads HTTP mode with defaults', () => {
    const env = loadSlackWorkerEnv({ SLACK_BOT_TOKEN: 'xoxb-1-abc', SLACK_SIGNING_SECRET: 'secret-value' });

    expect(slackAppOptionsFromEnv(env)).toEqual({
      mode: 'http',
      botToken: 'xoxb-1-abc',
      signingSecret: 'secret-value',
      slackApiUrl: undefined,
      port: 3000,
      host: '0.0.0.0',
    });
    expect(env.FIREBREAK_LOG_LEVEL).toBe('info');
  });

  test('HTTP mode requires the signing secret', () => {
    expect(() => loadSlackWorkerEnv({ SLACK_BOT_TOKEN: 'xoxb-1-abc' })).toThrow(
      /SLACK_SIGNING_SECRET: SLACK_SIGNING_SECRET is required in http mode/,
    );
  });

  test('socket mode requires an app-level token', () => {
    const env = { FIREBREAK_SLACK_MODE: 'socket', SLACK_BOT_TOKEN: 'xoxb-1-abc' };

    expect(() => loadSlackWorkerEnv(env)).toThrow(/SLACK_APP_TOKEN is required in socket mode/);
    expect(() => loadSlackWorkerEnv({ ...env, SLACK_APP_TOKEN: 'xoxb-not-an-app-token' })).toThrow(
      /SLACK_APP_TOKEN: must be an app-level token/,
    );
  });

  test('errors never echo a token', () => {
    const secret = 'xoxp-user-token-that-must-not-leak';
    let message = '';
    try {
      loadSlackWorkerEnv({ SLACK_BOT_TOKEN: secret, SLACK_SIGNING_SECRET: 's' });
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }

    expect(message).toContain('SLACK_BOT_TOKEN: must be a bot token');
    expect(message).not.toContain(secret);
  });

  test('port must be a number', () => {
    const env = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', FIREBREAK_SLACK_PORT: 'http' };

    expect(() => loadSlackWorkerEnv(env)).toThrow(/FIREBREAK_SLACK_PORT/);
  });
});

describe('buildSlackApp', () => {
  test('builds a Socket Mode app from an app-level token', () => {
    const env = loadSlackWorkerEnv({
      FIREBREAK_SLACK_MODE: 'socket',
      SLACK_BOT_TOKEN: 'xoxb-1-abc',
      SLACK_APP_TOKEN: 'xapp-1-abc',
    });
    const handle = buildSlackApp({ ...slackAppOptionsFromEnv(env), decisions, logger: silent });

    expect(handle.app).toBeDefined();
  });

  test('rejects Socket Mode without an app-level token', () => {
    const build = () =>
      buildSlackApp({ mode: 'socket', botToken: 'xoxb-1-abc', appToken: '', decisions, logger: silent });

    expect(build).toThrow(/appToken/);
  });
});
