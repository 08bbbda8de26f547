import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { fingerprintOf } from '../../domain/fingerprint';
import { incidentWorkflowId } from '../../domain/incident';
import { parseAlertmanagerBody } from '../../domain/parsers/alertmanager';
import { parseFalcoBody } from '../../domain/parsers/falco';
import { startIntakeHarness, type IntakeHarness } from './harness';

const fixtureDir = join(__dirname, 'fixtures');
const readFixture = (name: string): string => readFileSync(join(fixtureDir, name), 'utf8');

const acceptedSchema = z.object({
  incidentId: z.string().nullable(),
  workflowId: z.string().nullable(),
  runId: z.string().nullable(),
  accepted: z.number(),
  redeliveries: z.number(),
  incidents: z.array(
    z.object({
      incidentId: z.string(),
      workflowId: z.string(),
      runId: z.string(),
      accepted: z.number(),
      redeliveries: z.number(),
    }),
  ),
  resolvedWithoutIncident: z.number(),
});

let intake: IntakeHarness;
beforeAll(async () => {
  intake = await startIntakeHarness();
}, 120_000);
afterAll(async () => {
  await intake?.close();
});

async function postAccepted(path: string, body: string) {
  const response = await intake.post(path, body);
  expect(response.status).toBe(202);
  return acceptedSchema.parse(await response.json());
}

describe('Falco bodies', () => {
  test('terminal shell lands in its Deployment incident', async () => {
    const body = readFixture('falcosidekick-terminal-shell.json');
    const [expected] = parseFalcoBody(body, 'json');
    const answer = await postAccepted('/v1/alerts/falco', body);

    expect(answer.accepted).toBe(1);
    expect(answer.workflowId).toBe(incidentWorkflowId(fingerprintOf(expected!)));
    expect(answer.incidentId).toBe(`${answer.workflowId}:${answer.runId}`);
    const [stored] = await intake.alerts(answer.workflowId!);
    expect(stored?.id).toBe('3f2c8a1e-9b7d-4c52-8e0f-6a1d2b3c4e5f');
    expect(stored?.priority).toBe('Notice');
    expect(stored?.eventTime).toBe('2026-03-14T14:32:07.418239105Z');
    expect(stored?.eventTimeNs).toBe('1773498727418239105');
    expect(stored?.target).toEqual({
      node: 'ip-10-0-12-34.eu-west-1.compute.internal',
      namespace: 'shop-prod',
      pod: 'checkout-api-7c9d5f6b8-x2lqp',
      container: 'checkout-api',
      containerId: '8f3a2b1c9d4e',
      image: 'registry.example.internal/shop/checkout-api:1.14.2',
    });
    expect(stored?.mitre).toEqual({ techniques: ['T1059'], tactics: ['execution'] });
    expect(stored?.process).toEqual({ name: 'bash', cmdline: 'bash', exePath: '/usr/bin/bash', parentName: 'runc' });
    expect(stored?.user).toBe('root');
    expect(stored?.hostScoped).toBe(false);
    expect(stored?.rawEvent).toContain('"evt.time": 1773498727418239105');
  });

  test('drop-and-exec keeps nanoseconds and custom fields', async () => {
    const body = readFixture('falcosidekick-drop-and-exec-critical.json');
    const answer = await postAccepted('/v1/alerts/falco', body);

    const [stored] = await intake.alerts(answer.workflowId!);
    expect(stored?.priority).toBe('Critical');
    expect(stored?.eventTimeNs).toBe('1773499312903117422');
    expect(stored?.fields['container.start_ts']).toBe('1773302400123456789');
    expect(stored?.fields['proc.tty']).toBe(0);
    expect(stored?.target.cluster).toBe('prod-eu-1');
    expect(stored?.process.cmdline).toBe('kworkerd -o pool.mining.example.invalid:3333 --donate-level 0 -B');
    expect(stored?.mitre.tactics).toEqual(['TA0003', 'persistence']);
    const status = await intake.status(answer.workflowId!);
    expect(status.alertIds).toEqual(['b7e4d0c2-51a8-4f3e-9c6d-0e2f7a8b9c10']);
  });

  test('k8s_audit event targets the exec-ed pod', async () => {
    const body = readFixture('falco-http-output-k8saudit-attach-exec.json');
    const answer = await postAccepted('/v1/alerts/falco', body);

    const [stored] = await intake.alerts(answer.workflowId!);
    expect(stored?.source).toBe('k8s_audit');
    expect(stored?.id).toMatch(/^falco-[0-9a-f]{32}$/);
    expect(stored?.target).toEqual({ namespace: 'shop-prod', pod: 'checkout-api-7c9d5f6b8-x2lqp' });
    expect(stored?.user).toBe('oidc:operator-17');
    expect(stored?.eventTimeNs).toBe('1773498641412345000');
    expect(stored?.fields['ka.uri.param[command]']).toBe('bash');
  });
});

describe('Alertmanager bodies', () => {
  test('Falcosidekick group joins the direct Falco incident', async () => {
    const direct = await postAccepted('/v1/alerts/falco', readFixture('falcosidekick-drop-and-exec-critical.json'));
    const answer = await postAccepted('/v1/alerts/alertmanager', readFixture('alertmanager-falco-via-sidekick.json'));

    expect(answer.accepted).toBe(2);
    expect(answer.incidents).toHaveLength(1);
    expect(answer.workflowId).toBe(direct.workflowId);
    const status = await intake.status(answer.workflowId!);
    expect(status.alertIds).toEqual(
      expect.arrayContaining([
        'am-4e8c1a9b7d2f6035-2026-03-14T14:41:52.903117422Z',
        'am-a13f5c7e9b0d2468-2026-03-14T14:44:10.120559881Z',
      ]),
    );
    const stored = (await intake.alerts(answer.workflowId!)).find((alert) => alert.source === 'alertmanager');
    expect(stored?.eventTimeNs).toBe('1773499312903117422');
    expect(stored?.group).toEqual({
      key: '{}/{source="falco"}:{alertname="Drop and execute new binary in container", k8s_ns_name="shop-prod"}',
      truncatedAlerts: 0,
    });
  });

  test('resolved alert without incident starts none', async () => {
    const body = readFixture('alertmanager-prometheus-resolved.json');
    const [resolved] = parseAlertmanagerBody(body);
    const answer = await postAccepted('/v1/alerts/alertmanager', body);

    expect(answer.accepted).toBe(0);
    expect(answer.incidentId).toBeNull();
    expect(answer.resolvedWithoutIncident).toBe(1);
    const workflowId = incidentWorkflowId(fingerprintOf(resolved!));
    await expect(intake.client.workflow.getHandle(workflowId).describe()).rejects.toThrow(/not found/i);
  });
});

const caseSchema = z.object({ inputs: z.array(z.object({ name: z.string() }).loose()) });

describe('Falco event time precision', () => {
  const inputs = z
    .object({ inputs: z.array(z.object({ name: z.string(), rawBody: z.string() })) })
    .parse(JSON.parse(readFixture('case-falco-evt-time-precision.json'))).inputs;
  const rawBody = (name: string): string => inputs.find((input) => input.name === name)?.rawBody ?? '';

  test('events one nanosecond apart stay distinct', async () => {
    const first = await postAccepted('/v1/alerts/falco', rawBody('A_event_1'));
    const second = await postAccepted('/v1/alerts/falco', rawBody('B_event_2_one_ns_later'));

    expect(second.workflowId).toBe(first.workflowId);
    expect(second.accepted).toBe(1);
    const stored = await intake.alerts(first.workflowId!);
    const byId = new Map(stored.map((alert) => [alert.id, alert]));
    expect(byId.get('7d1f0c2a-1111-4aaa-8bbb-000000000001')?.eventTimeNs).toBe('1733312061123456789');
    expect(byId.get('7d1f0c2a-1111-4aaa-8bbb-000000000002')?.eventTimeNs).toBe('1733312061123456790');
    expect(byId.get('7d1f0c2a-1111-4aaa-8bbb-000000000001')?.eventTime).toBe('2024-12-04T11:34:21.123456789Z');
    expect(byId.get('7d1f0c2a-1111-4aaa-8bbb-000000000002')?.rawEvent).toContain('"evt.time":1733312061123456790');
  });

  test('missing or null evt.time is accepted', async () => {
    const missing = await postAccepted('/v1/alerts/falco', rawBody('C_evt_time_missing'));
    const nulled = await postAccepted('/v1/alerts/falco', rawBody('D_evt_time_null'));

    expect(missing.accepted).toBe(1);
    expect(nulled.accepted).toBe(1);
    const stored = await intake.alerts(missing.workflowId!);
    const third = stored.find((alert) => alert.id === '7d1f0c2a-1111-4aaa-8bbb-000000000003');
    const fourth = stored.find((alert) => alert.id === '7d1f0c2a-1111-4aaa-8bbb-000000000004');
    expect(third?.eventTimeNs).toBeUndefined();
    expect(fourth?.eventTimeNs).toBeUndefined();
    expect(fourth?.fields['evt.time']).toBeUndefined();
  });
});

describe('Falco output variants', () => {
  const variants = caseSchema.parse(JSON.parse(readFixture('case-falco-output-variants.json'))).inputs;
  const bodyOf = (name: string): Record<string, unknown> =>
    z.object({ body: z.record(z.string(), z.unknown()) }).parse(variants.find((input) => input.name === name)).body;

  test('event without output is accepted', async () => {
    const answer = await postAccepted('/v1/alerts/falco', JSON.stringify(bodyOf('A_no_output_key')));

    const stored = (await intake.alerts(answer.workflowId!)).find(
      (alert) => alert.id === 'a3c1b2d4-0000-4000-8000-00000000000a',
    );
    expect(stored?.output).toBeUndefined();
    expect(stored?.rule).toBe('Drop and execute new binary in container');
    expect(stored?.process.exePath).toBe('/tmp/.x/kworkerd');
  });

  test('priority in any letter case is normalised', async () => {
    const cases: [text: string, priority: string, recognised: boolean][] = [
      ['Critical', 'Critical', true],
      ['critical', 'Critical', true],
      ['CRITICAL', 'Critical', true],
      ['Informational', 'Informational', true],
      ['informational', 'Informational', true],
      ['Info', 'Informational', true],
      ['Urgent', 'Informational', false],
      ['', 'Informational', false],
    ];
    const base = bodyOf('A_no_output_key');
    for (const [index, [text, priority, recognised]] of cases.entries()) {
      const body = { ...base, uuid: `a3c1b2d4-0000-4000-8000-0000000001${index}0`, priority: text };
      const answer = await postAccepted('/v1/alerts/falco', JSON.stringify(body));
      const stored = (await intake.alerts(answer.workflowId!)).find((alert) => alert.id === body.uuid);
      expect({ text, priority: stored?.priority, recognised: stored?.priorityRecognised }).toEqual({
        text,
        priority,
        recognised,
      });
    }
  });

  test('hostile strings are carried verbatim', async () => {
    const body = bodyOf('C_hostile_strings');
    const answer = await postAccepted('/v1/alerts/falco', JSON.stringify(body));

    const [stored] = await intake.alerts(answer.workflowId!);
    expect(stored?.output).toBe(body['output']);
    expect(stored?.fields['fd.name']).toBe('/etc/evt\nWarning fake second alert');
    expect(stored?.process.cmdline).toBe('sh -c echo <!channel> <https://login.example.net|Approve here> & done');
    expect(stored?.process.name).toBe('a\ufffdz');
  });

  test('very long command line is kept whole', async () => {
    const body = bodyOf('D_very_long_cmdline');
    const answer = await postAccepted('/v1/alerts/falco', JSON.stringify(body));

    // Rules of one workload-compromise family share an incident, so pick this alert by its id.
    const stored = (await intake.alerts(answer.workflowId!)).find((alert) => alert.id === body['uuid']);
    const sent = z.object({ 'proc.cmdline': z.string() }).loose().parse(body['output_fields']);
    expect(stored?.process.cmdline).toBe(sent['proc.cmdline']);
    expect(stored?.process.cmdline?.length).toBeGreaterThan(20_000);
  });
});

describe('Alertmanager mixed status group', () => {
  const body = z
    .object({ body: z.unknown() })
    .parse(JSON.parse(readFixture('case-alertmanager-mixed-status-group.json'))).body;
  const text = JSON.stringify(body);

  test('each alert is handled by its own status', async () => {
    const [firing, resolved] = parseAlertmanagerBody(text);
    const answer = await postAccepted('/v1/alerts/alertmanager', text);

    expect(answer.accepted).toBe(1);
    expect(answer.resolvedWithoutIncident).toBe(1);
    expect(answer.workflowId).toBe(incidentWorkflowId(fingerprintOf(firing!)));
    const [stored] = await intake.alerts(answer.workflowId!);
    expect(stored?.status).toBe('firing');
    expect(stored?.target.pod).toBe('checkout-7d9f8b6c5-x2k4q');
    expect(stored?.group?.truncatedAlerts).toBe(2);
    const resolvedWorkflowId = incidentWorkflowId(fingerprintOf(resolved!));
    await expect(intake.client.workflow.getHandle(resolvedWorkflowId).describe()).rejects.toThrow(/not found/i);
  });

  test('resolved alert reaches its running incident', async () => {
    const [, resolved] = parseAlertmanagerBody(text);
    const group = z
      .object({ alerts: z.array(z.record(z.string(), z.unknown())) })
      .loose()
      .parse(body);
    const firingCart = { ...group, alerts: [{ ...group.alerts[1], status: 'firing', endsAt: '0001-01-01T00:00:00Z' }] };
    const started = await postAccepted('/v1/alerts/alertmanager', JSON.stringify(firingCart));
    const answer = await postAccepted('/v1/alerts/alertmanager', text);

    expect(started.workflowId).toBe(incidentWorkflowId(fingerprintOf(resolved!)));
    expect(answer.resolvedWithoutIncident).toBe(0);
    expect(answer.incidents.map((incident) => incident.workflowId)).toContain(started.workflowId);
    const statuses = (await intake.alerts(started.workflowId!)).map((alert) => `${alert.id} ${alert.status}`);
    expect(statuses).toEqual([
      'am-a1b2c3d4e5f60002-2024-12-04T11:50:00.000Z firing',
      'am-a1b2c3d4e5f60002-2024-12-04T11:50:00.000Z-resolved resolved',
    ]);
  });
});

describe('Alertmanager duplicate deliveries', () => {
  const deliveries = z
    .object({ deliveries: z.array(z.object({ seq: z.number(), body: z.unknown() })) })
    .parse(JSON.parse(readFixture('case-alertmanager-duplicate-deliveries.json'))).deliveries;

  test('redeliveries are counted, a new firing is kept', async () => {
    const answers = [];
    for (const delivery of deliveries) {
      const started = Date.now();
      answers.push(await postAccepted('/v1/alerts/alertmanager', JSON.stringify(delivery.body)));
      expect(Date.now() - started).toBeLessThan(1000);
    }

    const workflowIds = new Set(answers.map((answer) => answer.workflowId));
    expect(workflowIds.size).toBe(1);
    expect(answers.map((answer) => answer.accepted)).toEqual([1, 0, 0, 0, 1]);
    expect(answers.map((answer) => answer.redeliveries)).toEqual([0, 1, 1, 1, 0]);
    const status = await intake.status(answers[0]!.workflowId!);
    expect(status.alertIds).toEqual([
      'am-f00dfeed00000001-2024-12-04T13:00:00.000Z',
      'am-f00dfeed00000001-2024-12-04T15:30:00.000Z',
    ]);
    expect(status.redeliveries).toBe(3);
  });
});
