import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isGrpcServiceError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { z } from 'zod';
import { alertSummarySchema } from '../../domain/alert';
import { groupBy } from '../../workers/intake/accept';
import { isTemporalUnreachable } from '../../workers/intake/incidents';
import { intakeLimitsSchema } from '../../workers/intake/options';
import { startIntakeHarness, type IntakeHarness } from './harness';

const terminalShell = z
  .object({ uuid: z.string(), output_fields: z.record(z.string(), z.unknown()) })
  .loose()
  .parse(JSON.parse(readFileSync(join(__dirname, 'fixtures', 'falcosidekick-terminal-shell.json'), 'utf8')));

const acceptedSchema = z.object({
  workflowId: z.string(),
  accepted: z.number(),
  incidents: z.array(z.object({ workflowId: z.string() })),
});
const errorSchema = z.object({ error: z.string(), message: z.string() }).loose();

const maxPendingAlerts = 30;
const maxSignalsInFlight = 4;

let intake: IntakeHarness;
beforeAll(async () => {
  intake = await startIntakeHarness({ limits: { maxPendingAlerts, maxSignalsInFlight } });
}, 120_000);
afterAll(async () => {
  await intake?.close();
});

function genericAlert(id: string, namespace: string) {
  return {
    id,
    detector: 'custom',
    rule: 'Beaconing',
    priority: 'warning',
    time: '2026-03-14T16:00:00Z',
    target: { namespace },
  };
}

describe('permanent failures get 4xx', () => {
  test('deeply nested JSON gets 400 naming the depth', async () => {
    const body = `${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}`;
    const response = await intake.post('/v1/alerts/falco', body);

    expect(response.status).toBe(400);
    expect(errorSchema.parse(await response.json()).message).toMatch(/deeper than 64 levels/);
  });

  test('body above the pending limit gets 413', async () => {
    const alerts = Array.from({ length: maxPendingAlerts + 1 }, (_, index) =>
      genericAlert(`pending-${index}`, 'storm'),
    );
    const response = await intake.post('/v1/alerts', JSON.stringify(alerts));

    expect(response.status).toBe(413);
    const answer = errorSchema.parse(await response.json());
    expect(answer.error).toBe('too_large');
    expect(answer.message).toMatch(/above the maximum of 30 alerts per request: split it/);
  });

  test('cancelled Temporal call counts as unreachable', async () => {
    const controller = new AbortController();
    const poll = intake.client.withAbortSignal(controller.signal, () =>
      intake.client.withDeadline(Date.now() + 30_000, () =>
        intake.client.workflowService.pollWorkflowTaskQueue({
          namespace: intake.namespace,
          taskQueue: { name: 'limits-test-empty-queue' },
          identity: 'limits-test',
        }),
      ),
    );
    setTimeout(() => controller.abort(), 200);
    const error: unknown = await poll.then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(isGrpcServiceError(error) ? error.code : undefined).toBe(1);
    expect(isTemporalUnreachable(error)).toBe(true);
  });
});

describe('size limits', () => {
  test('long rule and namespace are cut in search attributes only', async () => {
    const rule = 'Доступ к секретам '.repeat(170).slice(0, 3000);
    const namespace = 'n'.repeat(5000);
    const body = {
      version: '4',
      groupKey: '{}:{alertname="long"}',
      status: 'firing',
      receiver: 'firebreak',
      alerts: [{ status: 'firing', labels: { alertname: rule, namespace }, startsAt: '2026-03-14T16:01:00Z' }],
    };
    const response = await intake.post('/v1/alerts/alertmanager', JSON.stringify(body));

    expect(response.status).toBe(202);
    const { workflowId } = acceptedSchema.parse(await response.json());
    const [stored] = await intake.alerts(workflowId);
    expect(stored?.rule).toBe(rule);
    expect(stored?.target.namespace).toBe(namespace);
    const attributes = (await intake.client.workflow.getHandle(workflowId).describe()).searchAttributes;
    const [ruleValue] = z.array(z.string()).parse(attributes['FirebreakRule']);
    const [namespaceValue] = z.array(z.string()).parse(attributes['FirebreakNamespace']);
    expect(rule.startsWith(ruleValue!)).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(ruleValue))).toBeLessThanOrEqual(1024);
    expect(Buffer.byteLength(JSON.stringify(ruleValue))).toBeGreaterThan(1000);
    expect(namespaceValue).toBe('n'.repeat(1022));
  });

  test('large Falco event is cut and archived', async () => {
    const cmdline = `sh -c ${'A'.repeat(950_000)}`;
    const event = {
      ...terminalShell,
      uuid: '1a46e000-0000-4000-8000-000000000001',
      output_fields: { ...terminalShell.output_fields, 'proc.cmdline': cmdline },
    };
    const body = JSON.stringify(event);
    const response = await intake.post('/v1/alerts/falco', body);

    expect(response.status).toBe(202);
    const { workflowId } = acceptedSchema.parse(await response.json());
    const stored = (await intake.alerts(workflowId)).find((alert) => alert.id === event.uuid);
    const sha256 = createHash('sha256').update(body).digest('hex');
    expect(stored?.truncated).toEqual({
      sha256,
      bytes: Buffer.byteLength(body),
      cut: ['rawEvent', 'fields.proc.cmdline', 'process.cmdline'],
    });
    expect(Buffer.byteLength(stored?.rawEvent ?? '')).toBeLessThanOrEqual(64 * 1024);
    expect(body.startsWith(stored?.rawEvent ?? 'missing')).toBe(true);
    expect(stored?.process.cmdline).toBe(cmdline.slice(0, 4096));
    expect(readFileSync(join(intake.archiveDir, `${sha256}.json`), 'utf8')).toBe(body);
  });

  test('start arguments carry a summary of the first alert', async () => {
    const event = {
      ...terminalShell,
      uuid: '1a46e000-0000-4000-8000-000000000002',
      output_fields: { ...terminalShell.output_fields, 'k8s.ns.name': 'summary-test' },
    };
    const response = await intake.post('/v1/alerts/falco', JSON.stringify(event));

    expect(response.status).toBe(202);
    const { workflowId } = acceptedSchema.parse(await response.json());
    const history = await intake.client.workflow.getHandle(workflowId).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const start = z
      .object({ fingerprint: z.string(), firstAlert: alertSummarySchema.strict() })
      .strict()
      .parse(defaultPayloadConverter.fromPayload(payload!));
    expect(start.firstAlert.id).toBe(event.uuid);
    expect(start.firstAlert.target.namespace).toBe('summary-test');
  });
});

describe('request size and concurrency', () => {
  test('many incidents in one body stay within the signal limit', async () => {
    const alerts = Array.from({ length: 25 }, (_, index) => genericAlert(`fan-out-${index}`, `fan-out-${index}`));
    intake.temporalCalls.maxInFlight = 0;
    const response = await intake.post('/v1/alerts', JSON.stringify(alerts));

    expect(response.status).toBe(202);
    const answer = acceptedSchema.parse(await response.json());
    expect(answer.accepted).toBe(25);
    expect(answer.incidents).toHaveLength(25);
    expect(intake.temporalCalls.maxInFlight).toBeLessThanOrEqual(maxSignalsInFlight);
    expect(intake.temporalCalls.maxInFlight).toBeGreaterThan(1);
  });

  test('groupBy handles 100,000 items of one key in linear time', () => {
    const items = Array.from({ length: 100_000 }, (_, index) => index);
    const startedMs = performance.now();
    const groups = groupBy(items, () => 'one');
    const elapsedMs = performance.now() - startedMs;

    expect(groups.get('one')).toHaveLength(100_000);
    expect(groups.get('one')?.[99_999]).toBe(99_999);
    expect(elapsedMs).toBeLessThan(1000);
  });

  test('alerts per request default to 10,000 and never exceed the pending limit', () => {
    expect(intakeLimitsSchema.parse({}).maxAlertsPerRequest).toBe(10_000);
    expect(intakeLimitsSchema.parse({ maxAlertsPerRequest: 50 }).maxAlertsPerRequest).toBe(50);
    expect(intakeLimitsSchema.parse({ maxPendingAlerts: 30 }).maxAlertsPerRequest).toBe(30);
  });
});
