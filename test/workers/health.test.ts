import { connect, createServer, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { Registry } from 'prom-client';
import {
  startHealthServer,
  workerHealthSettingsFromEnv,
  type HealthServer,
  type Readiness,
} from '../../workers/health';
import { installTemporalMetrics, startWorkerHealth } from '../../workers/worker-health';
import { testEnv } from '../support/env';
import { parsePrometheusText } from './prometheus-text';

const logger = pino({ level: 'silent' });

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

async function waitForStatus(url: string, status: number, timeoutMs = 15_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: number; body: unknown } | undefined;
  while (Date.now() < deadline) {
    last = await getJson(url);
    if (last.status === status) return last.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} returned ${String(last?.status)} ${JSON.stringify(last?.body)}, expected ${status}`);
}

/** Forwards loopback TCP connections to `target`; `close()` cuts every connection and refuses new ones. */
async function startTcpProxy(target: string): Promise<{ address: string; close: () => Promise<void> }> {
  const colon = target.lastIndexOf(':');
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.slice(colon + 1)), target.slice(0, colon));
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function busyWait(durationMs: number): void {
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    // Blocks the event loop on purpose.
  }
}

describe('health server', () => {
  let readiness: () => Promise<Readiness> = async () => ({ ready: true });
  let server: HealthServer;

  beforeAll(async () => {
    server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      logger,
      checkReadiness: () => readiness(),
      readinessTimeoutMs: 200,
      maxEventLoopDelayMs: 200,
      eventLoopSampleMs: 1000,
    });
  });
  afterAll(() => server.close());

  test('healthz returns ok', async () => {
    const { status, body } = await getJson(`${server.url}/healthz`);
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok', eventLoopDelayMs: expect.any(Number) });
  });

  test('healthz fails after a blocked event loop', async () => {
    busyWait(1500);
    const blocked = await getJson(`${server.url}/healthz`);
    expect(blocked.status).toBe(503);
    expect(blocked.body).toEqual({ status: 'event_loop_delayed', eventLoopDelayMs: expect.any(Number) });
    await waitForStatus(`${server.url}/healthz`, 200, 5000);
  });

  test('readyz reports a failing check by reason', async () => {
    readiness = async () => {
      throw new Error('connection refused by 10.0.0.1 with token abc');
    };
    const failed = await getJson(`${server.url}/readyz`);
    expect(failed.status).toBe(503);
    expect(failed.body).toEqual({ status: 'not_ready', reason: 'check_failed' });

    readiness = () => new Promise(() => undefined);
    const slow = await getJson(`${server.url}/readyz`);
    expect(slow.body).toEqual({ status: 'not_ready', reason: 'readiness_timeout' });
    readiness = async () => ({ ready: true });
  });

  test('other paths get 404', async () => {
    for (const path of ['/', '/health', '/metrics/x', '/readyz/', '//healthz', '/.env']) {
      const response = await fetch(`${server.url}${path}`);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
  });

  test('query strings are ignored', async () => {
    const response = await fetch(`${server.url}/healthz?verbose=1`);
    expect(response.status).toBe(200);
  });

  test('other methods get 405', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const response = await fetch(`${server.url}/readyz`, {
        method,
        body: method === 'POST' ? 'x'.repeat(1e6) : null,
      });
      expect({ method, status: response.status }).toEqual({ method, status: 405 });
      expect(response.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  test('HEAD returns no body', async () => {
    const response = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  test('metrics parse as Prometheus text', async () => {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parsePrometheusText(await response.text());
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    const checks = samples.filter((sample) => sample.name === 'firebreak_readiness_checks_total');
    expect(checks.map((sample) => sample.labels['result']).sort()).toEqual(['check_failed', 'readiness_timeout']);
  });
});

describe('health settings', () => {
  test('worker health is off without a port', () => {
    const settings = workerHealthSettingsFromEnv({});
    expect(settings.health).toEqual({ host: '127.0.0.1', port: undefined });
    expect(settings.temporalMetrics.port).toBeUndefined();
  });

  test('worker health port 0 disables it', () => {
    expect(workerHealthSettingsFromEnv({ FIREBREAK_WORKER_HEALTH_PORT: '0' }).health.port).toBeUndefined();
  });

  test('worker health reads host and ports', () => {
    const settings = workerHealthSettingsFromEnv({
      FIREBREAK_WORKER_HEALTH_PORT: '9464',
      FIREBREAK_WORKER_HEALTH_HOST: '0.0.0.0',
      FIREBREAK_WORKER_TEMPORAL_METRICS_PORT: '9465',
    });
    expect(settings.health).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(settings.temporalMetrics).toEqual({ host: '0.0.0.0', port: 9465 });
  });

  test('worker health rejects an invalid port', () => {
    expect(() => workerHealthSettingsFromEnv({ FIREBREAK_WORKER_HEALTH_PORT: '70000' })).toThrow(
      /FIREBREAK_WORKER_HEALTH_PORT/,
    );
  });
});

describe('worker health', () => {
  const env = testEnv();
  let temporalMetricsPort: number;
  let connection: NativeConnection;

  beforeAll(async () => {
    // The Temporal runtime must be installed before the first connection of this process.
    temporalMetricsPort = await freePort();
    installTemporalMetrics({ host: '127.0.0.1', port: temporalMetricsPort }, logger);
    connection = await NativeConnection.connect({ address: env.temporal.address });
  });
  afterAll(() => connection.close());

  test('readyz follows the worker lifecycle', async () => {
    const worker = await Worker.create({
      connection,
      namespace: env.temporal.namespace,
      taskQueue: `health-test-${randomUUID()}`,
      activities: { ping: async () => 'pong' },
    });
    const health = await startWorkerHealth(worker, connection, { host: '127.0.0.1', port: 0, logger });
    try {
      const before = await getJson(`${health.url}/readyz`);
      expect(before).toEqual({ status: 503, body: { status: 'not_ready', reason: 'worker_initialized' } });

      const run = worker.run();
      expect(await waitForStatus(`${health.url}/readyz`, 200)).toEqual({ status: 'ready' });

      const text = await (await fetch(`${health.url}/metrics`)).text();
      const { samples } = parsePrometheusText(text);
      const state = samples.filter((sample) => sample.name === 'firebreak_worker_state' && sample.value === 1);
      expect(state.map((sample) => sample.labels['state'])).toEqual(['RUNNING']);
      expect(samples.find((sample) => sample.name === 'firebreak_worker_activities_in_flight')?.value).toBe(0);
      expect(samples.some((sample) => sample.name === 'firebreak_worker_cached_workflows')).toBe(true);
      expect(samples.some((sample) => sample.name === 'process_resident_memory_bytes')).toBe(true);

      const sdkText = await (await fetch(`http://127.0.0.1:${temporalMetricsPort}/metrics`)).text();
      const sdk = parsePrometheusText(sdkText);
      const sdkNames = new Set(sdk.samples.map((sample) => sample.name));
      expect(sdkNames).toContain('temporal_worker_start');
      expect(sdkNames).toContain('temporal_num_pollers');

      worker.shutdown();
      await run;
      const after = await getJson(`${health.url}/readyz`);
      expect(after).toEqual({ status: 503, body: { status: 'not_ready', reason: 'worker_stopped' } });
      expect((await fetch(`${health.url}/healthz`)).status).toBe(200);
    } finally {
      await health.close();
    }
  });

  test('readyz fails when Temporal does not answer', async () => {
    const proxy = await startTcpProxy(env.temporal.address);
    const proxied = await NativeConnection.connect({ address: proxy.address });
    const worker = await Worker.create({
      connection,
      namespace: env.temporal.namespace,
      taskQueue: `health-test-${randomUUID()}`,
      activities: { ping: async () => 'pong' },
    });
    // Readiness calls Temporal through the proxy, while the worker polls on the direct connection.
    const health = await startWorkerHealth(worker, proxied, { host: '127.0.0.1', port: 0, logger });
    const run = worker.run();
    try {
      expect(await waitForStatus(`${health.url}/readyz`, 200)).toEqual({ status: 'ready' });
      await proxy.close();
      const result = await getJson(`${health.url}/readyz`);
      expect(result).toEqual({ status: 503, body: { status: 'not_ready', reason: 'temporal_unavailable' } });
    } finally {
      worker.shutdown();
      await run;
      await health.close();
      await proxied.close();
    }
  });
});
