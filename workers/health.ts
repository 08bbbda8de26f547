import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { z } from 'zod';

/**
 * A small HTTP server for probes and scrapes, for processes that serve no HTTP API of their own (the worker, the
 * Slack app): `GET /healthz`, `GET /readyz` and `GET /metrics`. It never reads a request body, and it responds
 * with 404 to other paths and 405 to other methods. Responses carry fixed status words and numbers, never error text.
 */

/** Result of a readiness check; `reason` is a fixed snake_case word, safe to show to anyone. */
export type Readiness = { ready: true } | { ready: false; reason: string };

export interface HealthServerOptions {
  host: string;
  /** 0 picks a free port, for tests. */
  port: number;
  /** The component's own readiness check; a throw or a timeout counts as not ready. */
  checkReadiness: () => Promise<Readiness>;
  /** Registry served at /metrics; the server adds the process metrics and its readiness counter to it. */
  registry: Registry;
  logger: Logger;
  /** Deadline of one readiness check; past it /readyz returns 503 `readiness_timeout`. */
  readinessTimeoutMs?: number;
  /** An event loop delay above this, in the last sample, makes /healthz return 503. */
  maxEventLoopDelayMs?: number;
  /** Interval of the event loop delay samples. */
  eventLoopSampleMs?: number;
}

export interface HealthServer {
  /** Base URL, for example `http://127.0.0.1:9464`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const routes = new Set(['/healthz', '/readyz', '/metrics']);
const allowedMethods = 'GET, HEAD';

/** Settings of one process's health server, from `FIREBREAK_<COMPONENT>_HEALTH_PORT` and `..._HEALTH_HOST`. */
export interface HealthSettings {
  host: string;
  /** Undefined when the server is disabled (the variable unset or 0). */
  port?: number;
}

const portSchema = z.coerce.number().int().min(0).max(65_535).optional();
const hostSchema = z.string().min(1).default('127.0.0.1');

const workerHealthEnvSchema = z.object({
  FIREBREAK_WORKER_HEALTH_PORT: portSchema,
  FIREBREAK_WORKER_HEALTH_HOST: hostSchema,
  /** Port of the Temporal SDK's own Prometheus exporter, on the same address; unset or 0 disables it. */
  FIREBREAK_WORKER_TEMPORAL_METRICS_PORT: portSchema,
});

const slackHealthEnvSchema = z.object({
  FIREBREAK_SLACK_HEALTH_PORT: portSchema,
  FIREBREAK_SLACK_HEALTH_HOST: hostSchema,
});

function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, component: string): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid ${component} health settings in the environment:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

const enabledPort = (port: number | undefined) => (port === undefined || port === 0 ? undefined : port);

/** Reads the worker's health and Temporal metrics settings; both servers are off unless their port is set. */
export function workerHealthSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): {
  health: HealthSettings;
  temporalMetrics: HealthSettings;
} {
  const vars = parseEnv(workerHealthEnvSchema, env, 'worker');
  const host = vars.FIREBREAK_WORKER_HEALTH_HOST;
  return {
    health: { host, port: enabledPort(vars.FIREBREAK_WORKER_HEALTH_PORT) },
    temporalMetrics: { host, port: enabledPort(vars.FIREBREAK_WORKER_TEMPORAL_METRICS_PORT) },
  };
}

/** Reads the Slack app's health settings; the server is off unless its port is set. */
export function slackHealthSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HealthSettings {
  const vars = parseEnv(slackHealthEnvSchema, env, 'Slack app');
  return { host: vars.FIREBREAK_SLACK_HEALTH_HOST, port: enabledPort(vars.FIREBREAK_SLACK_HEALTH_PORT) };
}

/** Formats `host:port`, with brackets around an IPv6 address. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Samples the event loop delay: a timer due every `sampleMs` records how late it fired. */
function sampleEventLoopDelay(sampleMs: number): { lastDelayMs: () => number; stop: () => void } {
  let expectedAt = performance.now() + sampleMs;
  let delayMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    delayMs = Math.max(0, now - expectedAt);
    expectedAt = now + sampleMs;
  }, sampleMs);
  timer.unref();
  return { lastDelayMs: () => delayMs, stop: () => clearInterval(timer) };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sendJson(response: ServerResponse, status: number, body: object, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(text);
}

/** True when the request announces a body, which this server never reads, so the connection is closed after it. */
function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Starts the health server and resolves once it listens. Readiness changes are logged once per change, not on
 * every probe.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 3000;
  const maxEventLoopDelayMs = options.maxEventLoopDelayMs ?? 2000;
  const eventLoop = sampleEventLoopDelay(options.eventLoopSampleMs ?? 500);
  const { registry, logger } = options;
  collectDefaultMetrics({ register: registry });
  const readinessChecks = new Counter({
    name: 'firebreak_readiness_checks_total',
    help: 'Readiness checks of this process, by result: ready, or the reason it was not ready.',
    labelNames: ['result'],
    registers: [registry],
  });

  let lastResult = 'unknown';
  const checkReadiness = async (): Promise<Readiness> => {
    const check = options.checkReadiness().catch((error: unknown): Readiness => {
      // Logged once per failing streak: the transition log below covers the probes that follow.
      if (lastResult !== 'check_failed') logger.warn({ err: error }, 'readiness check failed');
      return { ready: false, reason: 'check_failed' };
    });
    const result = await withTimeout(check, readinessTimeoutMs, { ready: false, reason: 'readiness_timeout' });
    const name = result.ready ? 'ready' : result.reason;
    readinessChecks.inc({ result: name });
    if (name !== lastResult) {
      logger.info({ readiness: name, previous: lastResult }, 'readiness changed');
      lastResult = name;
    }
    return result;
  };

  const handle = async (path: string, response: ServerResponse): Promise<void> => {
    if (path === '/healthz') {
      const eventLoopDelayMs = Math.round(eventLoop.lastDelayMs());
      const healthy = eventLoopDelayMs <= maxEventLoopDelayMs;
      sendJson(response, healthy ? 200 : 503, { status: healthy ? 'ok' : 'event_loop_delayed', eventLoopDelayMs });
    } else if (path === '/readyz') {
      const result = await checkReadiness();
      sendJson(
        response,
        result.ready ? 200 : 503,
        result.ready ? { status: 'ready' } : { status: 'not_ready', reason: result.reason },
      );
    } else {
      const text = await registry.metrics();
      response.writeHead(200, { 'content-type': registry.contentType });
      response.end(text);
    }
  };

  const server: Server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (request, response) => {
    if (hasBody(request)) response.setHeader('connection', 'close');
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (!routes.has(path)) {
      sendJson(response, 404, { status: 'not_found' });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendJson(response, 405, { status: 'method_not_allowed' }, { allow: allowedMethods });
      return;
    }
    handle(path, response).catch((error: unknown) => {
      logger.error({ err: error, path }, 'health endpoint failed');
      if (!response.headersSent) sendJson(response, 500, { status: 'error' });
      else response.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error({ err: error }, 'health server error'));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const url = `http://${hostPort(options.host, port)}`;
  logger.info({ url }, 'health server listening');

  return {
    url,
    port,
    close: async () => {
      eventLoop.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      logger.info({ url }, 'health server stopped');
    },
  };
}
