import { Server } from 'node:http';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { registerGateClicks } from './gate-clicks';
import type { GateDecisions } from './gate-decisions';
import { guardSlackEndpoint } from './request-guard';

/**
 * The Slack app that takes gate decisions: a Bolt `App` that receives interactions over HTTP (the request URL,
 * with Slack's signature verified on every request) or over Socket Mode (for clusters without public ingress).
 */

const httpOptionsSchema = z.object({
  mode: z.literal('http'),
  botToken: z.string().min(1),
  /** Always required: the HTTP receiver never runs without signature verification. */
  signingSecret: z.string().min(1),
  port: z.number().int().min(0).max(65_535).default(3000),
  host: z.string().default('0.0.0.0'),
  endpointPath: z.string().startsWith('/').default('/slack/events'),
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  slackApiUrl: z.url().optional(),
});

const socketOptionsSchema = z.object({
  mode: z.literal('socket'),
  botToken: z.string().min(1),
  /** App-level token (`xapp-…`) with the `connections:write` scope. */
  appToken: z.string().min(1),
  slackApiUrl: z.url().optional(),
});

export const slackAppOptionsSchema = z.discriminatedUnion('mode', [httpOptionsSchema, socketOptionsSchema]);
/** Connection settings: HTTP with a signing secret, or Socket Mode with an app-level token. */
export type SlackConnectionOptions = z.input<typeof slackAppOptionsSchema>;
export type SlackAppOptions = SlackConnectionOptions & { decisions: GateDecisions; logger?: Logger };

export interface SlackAppHandle {
  app: App;
  /** Checks the bot token with auth.test, then listens (HTTP) or connects (Socket Mode). */
  start(): Promise<{ url?: string }>;
  stop(): Promise<void>;
  /** True while the HTTP receiver listens (HTTP mode) or the Socket Mode WebSocket is open (Socket Mode). */
  isReady(): boolean;
}

/** Adapts a pino logger to the logger interface that Bolt and the Slack WebClient take. */
function toBoltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const write =
    (method: 'debug' | 'info' | 'warn' | 'error') =>
    (...parts: unknown[]) =>
      logger[method]({ source: 'bolt' }, parts.map(String).join(' '));
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

/** Builds the Slack app; call `start()` to receive clicks. */
export function buildSlackApp(options: SlackAppOptions): SlackAppHandle {
  const config = slackAppOptionsSchema.parse(options);
  const logger = options.logger ?? pino({ name: 'firebreak-slack' });
  const boltLogger = toBoltLogger(logger);
  const clientOptions = { slackApiUrl: config.slackApiUrl, timeout: 10_000, retryConfig: { retries: 2 } };
  const common = { token: config.botToken, logger: boltLogger, clientOptions, deferInitialization: true };

  let app: App;
  let receiver: HTTPReceiver | undefined;
  let socketReceiver: SocketModeReceiver | undefined;
  let server: Server | undefined;
  if (config.mode === 'http') {
    receiver = new HTTPReceiver({
      signingSecret: config.signingSecret,
      endpoints: config.endpointPath,
      logger: boltLogger,
    });
    guardSlackEndpoint(receiver, { ...config, logger });
    app = new App({ ...common, receiver });
  } else {
    // Built here rather than by the App, so readiness can read the Socket Mode client's WebSocket state.
    const installerOptions = { clientOptions };
    socketReceiver = new SocketModeReceiver({ appToken: config.appToken, logger: boltLogger, installerOptions });
    app = new App({ ...common, socketMode: true, appToken: config.appToken, receiver: socketReceiver });
  }
  registerGateClicks(app, { decisions: options.decisions, logger });

  return {
    app,
    async start() {
      await app.init();
      if (config.mode === 'socket') {
        await app.start();
        logger.info('Slack app connected over Socket Mode');
        return {};
      }
      const started: unknown = await app.start({ port: config.port, host: config.host });
      server = started instanceof Server ? started : undefined;
      const address = server === undefined ? null : server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      const url = `http://${config.host}:${port}${config.endpointPath}`;
      logger.info({ url }, 'Slack app listening');
      return { url };
    },
    async stop() {
      await app.stop();
      logger.info('Slack app stopped');
    },
    isReady() {
      // NOTE: no test covers an open Socket Mode connection, because the Slack stand-in serves no WebSocket.
      if (socketReceiver !== undefined) return socketReceiver.client.websocket?.isActive() === true;
      return server?.listening === true;
    },
  };
}
