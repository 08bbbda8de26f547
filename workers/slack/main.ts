import pino, { type Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { z } from 'zod';
import { slackHealthSettingsFromEnv, startHealthServer, type HealthServer } from '../health';
import { connectClient, temporalSettingsFromEnv } from '../temporal';
import { buildSlackApp, type SlackAppHandle, type SlackConnectionOptions } from './app';
import { createTemporalGateDecisions, GateDecisionRejected, type GateDecisions } from './gate-decisions';

/**
 * Process entry of the Slack app: `tsx workers/slack/main.ts`. Reads its settings from the environment (the
 * Temporal ones as in `workers/temporal.ts`), connects to Temporal, and receives gate clicks over HTTP or
 * Socket Mode until SIGTERM or SIGINT.
 */

const envSchema = z
  .object({
    FIREBREAK_SLACK_MODE: z.enum(['http', 'socket']).default('http'),
    SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'must be a bot token (xoxb-…)'),
    SLACK_SIGNING_SECRET: z.string().min(1).optional(),
    SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'must be an app-level token (xapp-…)').optional(),
    FIREBREAK_SLACK_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    FIREBREAK_SLACK_HOST: z.string().min(1).default('0.0.0.0'),
    /** Web API base URL; only tests point it elsewhere than Slack. */
    SLACK_API_URL: z.url().optional(),
    FIREBREAK_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  })
  .superRefine((env, context) => {
    if (env.FIREBREAK_SLACK_MODE === 'http' && env.SLACK_SIGNING_SECRET === undefined) {
      const message = 'SLACK_SIGNING_SECRET is required in http mode: copy it from the Slack app settings';
      context.addIssue({ code: 'custom', path: ['SLACK_SIGNING_SECRET'], message });
    }
    if (env.FIREBREAK_SLACK_MODE === 'socket' && env.SLACK_APP_TOKEN === undefined) {
      const message = 'SLACK_APP_TOKEN is required in socket mode: create an app-level token with connections:write';
      context.addIssue({ code: 'custom', path: ['SLACK_APP_TOKEN'], message });
    }
  });
export type SlackWorkerEnv = z.infer<typeof envSchema>;

/** Parses the environment; the error lists each invalid variable by name and never echoes a value. */
export function loadSlackWorkerEnv(env: NodeJS.ProcessEnv): SlackWorkerEnv {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid Slack app environment: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** Maps the environment to app options, without the decision service. */
export function slackAppOptionsFromEnv(env: SlackWorkerEnv): SlackConnectionOptions {
  const common = { botToken: env.SLACK_BOT_TOKEN, slackApiUrl: env.SLACK_API_URL };
  if (env.FIREBREAK_SLACK_MODE === 'socket') {
    return { ...common, mode: 'socket', appToken: env.SLACK_APP_TOKEN ?? '' };
  }
  const signing = { signingSecret: env.SLACK_SIGNING_SECRET ?? '' };
  return { ...common, ...signing, mode: 'http', port: env.FIREBREAK_SLACK_PORT, host: env.FIREBREAK_SLACK_HOST };
}

/** Counts gate decisions sent to Temporal by outcome: `decided`, `rejected` (by the workflow) or `failed`. */
export function countGateDecisions(decisions: GateDecisions, registry: Registry): GateDecisions {
  const counter = new Counter({
    name: 'firebreak_slack_gate_decisions_total',
    help: 'Gate decisions from Slack clicks, by outcome: decided, rejected (by the workflow) or failed.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return {
    readIncident: (incidentId) => decisions.readIncident(incidentId),
    async decide(incidentId, input) {
      try {
        const result = await decisions.decide(incidentId, input);
        counter.inc({ outcome: 'decided' });
        return result;
      } catch (error) {
        counter.inc({ outcome: error instanceof GateDecisionRejected ? 'rejected' : 'failed' });
        throw error;
      }
    },
  };
}

/** Starts the Slack app's health server: ready while the HTTP receiver listens or the Socket Mode link is open. */
export function startSlackHealth(
  handle: SlackAppHandle,
  options: { host: string; port: number; registry: Registry; logger: Logger },
): Promise<HealthServer> {
  new Gauge({
    name: 'firebreak_slack_connected',
    help: '1 while the HTTP receiver listens (HTTP mode) or the Socket Mode WebSocket is open, else 0.',
    registers: [options.registry],
    collect() {
      this.set(handle.isReady() ? 1 : 0);
    },
  });
  return startHealthServer({
    ...options,
    checkReadiness: async () => (handle.isReady() ? { ready: true } : { ready: false, reason: 'slack_not_connected' }),
  });
}

async function main(): Promise<void> {
  const env = loadSlackWorkerEnv(process.env);
  const temporal = temporalSettingsFromEnv(process.env);
  const healthSettings = slackHealthSettingsFromEnv(process.env);
  const logger = pino({ name: 'firebreak-slack', level: env.FIREBREAK_LOG_LEVEL });

  const client = await connectClient(temporal);
  logger.info({ address: temporal.address, namespace: temporal.namespace }, 'Temporal connected');
  const registry = new Registry();
  const decisions = countGateDecisions(createTemporalGateDecisions(client), registry);
  const handle = buildSlackApp({ ...slackAppOptionsFromEnv(env), decisions, logger });
  // The health server starts first, so liveness probes succeed while the app connects and readiness reports the wait.
  const health =
    healthSettings.port === undefined
      ? undefined
      : await startSlackHealth(handle, { host: healthSettings.host, port: healthSettings.port, registry, logger });
  await handle.start();

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'Slack app stopping');
    await handle.stop().catch((error: unknown) => logger.error({ err: error }, 'Slack app stop failed'));
    await health?.close();
    await client.connection.close();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`firebreak slack: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
