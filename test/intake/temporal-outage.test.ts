import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { z } from 'zod';
import { alertBatchSchema } from '../../domain/incident';
import { freePort, startProcess, stopProcess, tcpOpen, waitFor, type ManagedProcess } from '../../tools/lab/process';
import { firebreakSearchAttributes } from '../../tools/lab/temporal';
import { testEnv } from '../support/env';
import { startIntakeHarness, type IntakeHarness } from './harness';

/**
 * These tests stop Temporal, so they run their own dev server (same binary as the shared one) and restart it on
 * the same port and SQLite file, as an operator restarting Temporal would.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'firebreak-outage-'));
let port = 0;
let temporal: ManagedProcess | undefined;
let intake: IntakeHarness;
/** A second intake on the same server whose pending limit a small request can reach. */
let busy: IntakeHarness;

async function startOwnTemporal(): Promise<void> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless'];
  args.push('--db-filename', join(dataDir, 'temporal.sqlite'), '--namespace', 'default', '--log-level', 'warn');
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  for (const [name, type] of Object.entries(firebreakSearchAttributes)) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  temporal = startProcess(`temporal-outage-${port}`, testEnv().temporal.binary, args, testEnv().logDir);
  await waitFor(temporal, 'the frontend port open', () => tcpOpen(port), 60_000);
}

beforeAll(async () => {
  port = await freePort();
  await startOwnTemporal();
  intake = await startIntakeHarness({
    temporalAddress: `127.0.0.1:${port}`,
    namespace: 'default',
    worker: false,
    limits: { temporalDeadlineMs: 1500, retryAfterSec: 7 },
  });
  busy = await startIntakeHarness({
    temporalAddress: `127.0.0.1:${port}`,
    namespace: 'default',
    worker: false,
    limits: { temporalDeadlineMs: 2000, retryAfterSec: 3, maxPendingAlerts: 3 },
  });
}, 120_000);
afterAll(async () => {
  await intake?.close();
  await busy?.close();
  if (temporal) {
    await stopProcess(temporal);
  }
  rmSync(dataDir, { recursive: true, force: true });
});

function alertBody(uuid: string, namespace = 'outage'): string {
  return JSON.stringify({
    uuid,
    output: 'Notice A shell was spawned in a container with an attached terminal',
    priority: 'Notice',
    rule: 'Terminal shell in container',
    time: '2026-03-14T14:32:07.418239105Z',
    source: 'syscall',
    hostname: 'kwok-node-0',
    output_fields: { 'k8s.ns.name': namespace, 'k8s.pod.name': 'web-6b7f9c8d5-q2w4e', 'container.id': '1a2b3c4d5e6f' },
  });
}

/** Alert ids of every batch signalled to the workflow, read from its history (no worker runs on this server). */
async function signalledAlertIds(workflowId: string): Promise<string[]> {
  const history = await intake.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const payload = event.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
    if (!payload) {
      return [];
    }
    return alertBatchSchema.parse(defaultPayloadConverter.fromPayload(payload)).alerts.map((alert) => alert.id);
  });
}

test('503 while Temporal is down, stored after it returns', async () => {
  const before = await intake.post('/v1/alerts/falco', alertBody('0a7a6e00-0000-4000-8000-000000000001'));
  expect(before.status).toBe(202);
  const { workflowId } = z.object({ workflowId: z.string() }).parse(await before.json());

  await stopProcess(temporal!);
  const during = await intake.post('/v1/alerts/falco', alertBody('0a7a6e00-0000-4000-8000-000000000002'));
  const duringBody = z
    .object({ error: z.string() })
    .loose()
    .parse(await during.json());
  const ready = await fetch(`${intake.url}/readyz`);

  expect(during.status).toBe(503);
  expect(during.headers.get('retry-after')).toBe('7');
  expect(duringBody.error).toBe('unavailable');
  expect(duringBody).not.toHaveProperty('incidentId');
  expect(ready.status).toBe(503);

  await startOwnTemporal();
  let after: Response | undefined;
  for (let attempt = 0; attempt < 20 && after?.status !== 202; attempt++) {
    after = await intake.post('/v1/alerts/falco', alertBody('0a7a6e00-0000-4000-8000-000000000002'));
    if (after.status !== 202) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  expect(after?.status).toBe(202);
  expect(await signalledAlertIds(workflowId)).toEqual([
    '0a7a6e00-0000-4000-8000-000000000001',
    '0a7a6e00-0000-4000-8000-000000000002',
  ]);
}, 120_000);

test('busy request while Temporal is down leaves nothing running', async () => {
  await stopProcess(temporal!);
  const waiting = busy.post('/v1/alerts/falco', alertBody('0a7a6e00-0000-4000-8000-000000000101', 'busy-a'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const events = [
    alertBody('0a7a6e00-0000-4000-8000-000000000102', 'busy-b'),
    alertBody('0a7a6e00-0000-4000-8000-000000000103', 'busy-c'),
    alertBody('0a7a6e00-0000-4000-8000-000000000104', 'busy-c'),
  ];
  const rejected = await busy.post('/v1/alerts/falco', `[${events.join(',')}]`);

  expect(rejected.status).toBe(503);
  expect(rejected.headers.get('retry-after')).toBe('3');
  expect((await waiting).status).toBe(503);
  // Any batch of the rejected request would fail once the 2 s deadline passes; Jest fails the test on the
  // unhandled rejection that this used to raise.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const metrics = await (await fetch(`${busy.url}/metrics`)).text();
  expect(metrics).toMatch(/firebreak_intake_signals_total\{outcome="unavailable"\} 1\n/);
}, 30_000);
