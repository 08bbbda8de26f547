import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { startIntakeHarness, type IntakeHarness } from './harness';

const acceptedSchema = z.object({
  incidentId: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  accepted: z.number(),
});

const terminalShell = z
  .object({ uuid: z.string(), output_fields: z.record(z.string(), z.unknown()) })
  .loose()
  .parse(JSON.parse(readFileSync(join(__dirname, 'fixtures', 'falcosidekick-terminal-shell.json'), 'utf8')));

let intake: IntakeHarness;
beforeAll(async () => {
  intake = await startIntakeHarness();
}, 120_000);
afterAll(async () => {
  await intake?.close();
});

async function postAccepted(path: string, body: unknown) {
  const response = await intake.post(path, JSON.stringify(body));
  expect(response.status).toBe(202);
  return acceptedSchema.parse(await response.json());
}

/** Builds a Falco event from a process outside any container: no Kubernetes fields, container id `host`. */
function hostEvent(uuid: string, node: string) {
  return {
    uuid,
    output: 'Notice Sensitive file opened for reading by non-trusted program (file=/etc/shadow)',
    priority: 'Warning',
    rule: 'Read sensitive file untrusted',
    time: '2026-03-14T15:00:00.000000001Z',
    source: 'syscall',
    hostname: node,
    tags: ['T1555', 'filesystem', 'host', 'mitre_credential_access'],
    output_fields: { 'container.id': 'host', 'container.name': 'host', 'fd.name': '/etc/shadow', 'proc.name': 'cat' },
  };
}

describe('host events', () => {
  test('host event is accepted and scoped to its node', async () => {
    const answer = await postAccepted(
      '/v1/alerts/falco',
      hostEvent('0b5e0000-0000-4000-8000-000000000001', 'kwok-node-0'),
    );

    const [stored] = await intake.alerts(answer.workflowId);
    expect(stored?.hostScoped).toBe(true);
    expect(stored?.target).toEqual({ node: 'kwok-node-0', containerId: 'host' });
    const attributes = (await intake.client.workflow.getHandle(answer.workflowId).describe()).searchAttributes;
    expect(attributes['FirebreakNode']).toEqual(['kwok-node-0']);
    expect(attributes['FirebreakNamespace']).toBeUndefined();
    expect(attributes['FirebreakWorkload']).toBeUndefined();
  });

  test('host events on two nodes make two incidents', async () => {
    const first = await postAccepted(
      '/v1/alerts/falco',
      hostEvent('0b5e0000-0000-4000-8000-000000000002', 'kwok-node-0'),
    );
    const second = await postAccepted(
      '/v1/alerts/falco',
      hostEvent('0b5e0000-0000-4000-8000-000000000003', 'kwok-node-1'),
    );

    expect(second.workflowId).not.toBe(first.workflowId);
  });
});

describe('incident start', () => {
  test('new incident gets its search attributes', async () => {
    const event = { ...terminalShell, uuid: '5a000000-0000-4000-8000-000000000001' };
    const answer = await postAccepted('/v1/alerts/falco', event);

    const attributes = (await intake.client.workflow.getHandle(answer.workflowId).describe()).searchAttributes;
    expect(attributes['FirebreakPhase']).toEqual(['detect']);
    expect(attributes['FirebreakNamespace']).toEqual(['shop-prod']);
    expect(attributes['FirebreakWorkload']).toEqual(['Deployment/checkout-api']);
    expect(attributes['FirebreakNode']).toEqual(['ip-10-0-12-34.eu-west-1.compute.internal']);
    expect(attributes['FirebreakRule']).toEqual(['Terminal shell in container']);
    expect(attributes['FirebreakAlertCount']).toEqual([1]);
  });

  test('alert after close starts a linked incident', async () => {
    const cluster = 'closed-incident-cluster';
    const withCluster = (uuid: string) => ({
      ...terminalShell,
      uuid,
      output_fields: { ...terminalShell.output_fields, cluster },
    });
    const first = await postAccepted('/v1/alerts/falco', withCluster('c1000000-0000-4000-8000-000000000001'));
    const handle = intake.client.workflow.getHandle(first.workflowId, first.runId);
    await handle.signal('close');
    await handle.result();

    const second = await postAccepted('/v1/alerts/falco', withCluster('c1000000-0000-4000-8000-000000000002'));

    expect(second.workflowId).toBe(first.workflowId);
    expect(second.runId).not.toBe(first.runId);
    expect(second.incidentId).not.toBe(first.incidentId);
    const status = await intake.status(second.workflowId, second.runId);
    expect(status.previousRunId).toBe(first.runId);
    expect(status.alertIds).toEqual(['c1000000-0000-4000-8000-000000000002']);
  });

  test('new incident starts without a describe call', async () => {
    const event = {
      ...terminalShell,
      uuid: 'c3000000-0000-4000-8000-000000000001',
      output_fields: { ...terminalShell.output_fields, cluster: 'one-round-trip-cluster' },
    };
    const describesBefore = intake.temporalCalls.describes;

    const answer = await postAccepted('/v1/alerts/falco', event);

    expect(answer.accepted).toBe(1);
    expect(intake.temporalCalls.describes).toBe(describesBefore);
    const status = await intake.status(answer.workflowId, answer.runId);
    expect(status.previousRunId).toBeNull();
  });

  test('alert to a running incident sends no describe call', async () => {
    const withCluster = (uuid: string) => ({
      ...terminalShell,
      uuid,
      output_fields: { ...terminalShell.output_fields, cluster: 'running-incident-cluster' },
    });
    const first = await postAccepted('/v1/alerts/falco', withCluster('c4000000-0000-4000-8000-000000000001'));
    const describesBefore = intake.temporalCalls.describes;

    const second = await postAccepted('/v1/alerts/falco', withCluster('c4000000-0000-4000-8000-000000000002'));

    expect(second.runId).toBe(first.runId);
    expect(intake.temporalCalls.describes).toBe(describesBefore);
    const status = await intake.status(second.workflowId, second.runId);
    expect(status.alertIds).toEqual(['c4000000-0000-4000-8000-000000000001', 'c4000000-0000-4000-8000-000000000002']);
  });

  test('redelivery to a closed incident is answered from the cache', async () => {
    const event = {
      ...terminalShell,
      uuid: 'c2000000-0000-4000-8000-000000000001',
      output_fields: { ...terminalShell.output_fields, cluster: 'redelivery-cluster' },
    };
    const first = await postAccepted('/v1/alerts/falco', event);
    const handle = intake.client.workflow.getHandle(first.workflowId, first.runId);
    await handle.signal('close');
    await handle.result();

    const again = await postAccepted('/v1/alerts/falco', event);

    expect(again.accepted).toBe(0);
    expect(again.runId).toBe(first.runId);
  });
});

describe('generic alerts', () => {
  test('Trivy finding lands in its workload incident', async () => {
    const finding = {
      id: 'trivy-shop-prod-catalog-svc-CVE-2024-3094',
      detector: 'trivy',
      rule: 'CVE-2024-3094',
      priority: 'CRITICAL',
      severity: 'P1',
      time: '2026-03-14T15:10:00Z',
      output: 'xz-utils 5.6.0 in registry.example.internal/shop/catalog-svc:3.2.0 has a backdoor (CVE-2024-3094)',
      tags: ['T1195.002', 'mitre_initial_access', 'vulnerability'],
      target: {
        cluster: 'prod-eu-1',
        namespace: 'shop-prod',
        workload: 'Deployment/catalog-svc',
        image: 'registry.example.internal/shop/catalog-svc:3.2.0',
      },
      fields: { 'package.name': 'xz-utils', 'package.version': '5.6.0', fixedVersion: null },
    };
    const answer = await postAccepted('/v1/alerts', finding);

    const [stored] = await intake.alerts(answer.workflowId);
    expect(stored?.source).toBe('generic');
    expect(stored?.priority).toBe('Critical');
    expect(stored?.severityHint).toBe('P1');
    expect(stored?.mitre).toEqual({ techniques: ['T1195.002'], tactics: ['initial_access'] });
    expect(stored?.target.workload).toBe('Deployment/catalog-svc');
    expect(stored?.fields).toEqual({ 'package.name': 'xz-utils', 'package.version': '5.6.0', detector: 'trivy' });
    const attributes = (await intake.client.workflow.getHandle(answer.workflowId).describe()).searchAttributes;
    expect(attributes['FirebreakSeverity']).toEqual(['P1']);
  });

  test('NDJSON body carries several alerts', async () => {
    const line = (id: string) =>
      JSON.stringify({
        id,
        detector: 'custom',
        rule: 'Beaconing',
        priority: 'warning',
        time: '2026-03-14T15:11:00Z',
        target: { namespace: 'payments', pod: 'ledger-0' },
      });
    const response = await intake.post('/v1/alerts', `${line('beacon-1')}\n${line('beacon-2')}\n`, {
      'content-type': 'application/x-ndjson',
    });

    expect(response.status).toBe(202);
    const answer = acceptedSchema.parse(await response.json());
    expect(answer.accepted).toBe(2);
    expect((await intake.status(answer.workflowId)).alertIds).toEqual(['beacon-1', 'beacon-2']);
  });
});

const errorSchema = z.object({
  error: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })),
});

async function postRejected(path: string, body: unknown) {
  const response = await intake.post(path, JSON.stringify(body));
  expect(response.status).toBe(400);
  return errorSchema.parse(await response.json());
}

/** Builds an Alertmanager webhook body with the given alerts, each `{ status, labels, startsAt }`. */
function alertmanagerBody(alerts: { status: string; labels: Record<string, string>; startsAt: string }[]) {
  return {
    version: '4',
    groupKey: '{}:{alertname="HostCompromise"}',
    status: alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'firebreak',
    truncatedAlerts: 0,
    alerts: alerts.map((alert) => ({ annotations: {}, ...alert })),
  };
}

describe('host events without a node', () => {
  test.each([
    ['absent', undefined],
    ['<NA>', '<NA>'],
    ['empty', ''],
  ])('Falco host event with %s hostname gets 400', async (_case, hostname) => {
    const event = { ...hostEvent('0b5e0000-0000-4000-8000-0000000000a1', 'unused'), hostname };
    const answer = await postRejected('/v1/alerts/falco', event);

    expect(answer.issues.map((issue) => issue.path.join('.'))).toEqual(['hostname']);
    expect(answer.issues[0]?.message).toMatch(/set hostname to the node name/);
  });

  test('Alertmanager host alert without node gets 400', async () => {
    const body = alertmanagerBody([
      { status: 'firing', labels: { alertname: 'HostShell', container_id: 'host' }, startsAt: '2026-03-14T15:00:00Z' },
    ]);
    const answer = await postRejected('/v1/alerts/alertmanager', body);

    expect(answer.issues.map((issue) => issue.path.join('.'))).toEqual(['alerts.0.labels.node']);
    expect(answer.issues[0]?.message).toMatch(/add a node label/);
  });

  test('generic host alert without node gets 400', async () => {
    const alert = {
      detector: 'custom',
      rule: 'Host shell',
      priority: 'warning',
      time: '2026-03-14T15:00:00Z',
      target: { containerId: 'host' },
    };
    const answer = await postRejected('/v1/alerts', alert);

    expect(answer.issues.map((issue) => issue.path.join('.'))).toEqual(['target.node']);
  });

  test('Alertmanager instance label scopes the alert to its node', async () => {
    const alert = (instance: string, startsAt: string) => ({
      status: 'firing',
      labels: { alertname: 'NodeRootShell', instance, job: 'node-exporter' },
      startsAt,
    });
    const first = await postAccepted(
      '/v1/alerts/alertmanager',
      alertmanagerBody([alert('node-a:9100', '2026-03-14T15:01:00Z')]),
    );
    const second = await postAccepted(
      '/v1/alerts/alertmanager',
      alertmanagerBody([alert('node-b:9100', '2026-03-14T15:01:00Z')]),
    );
    const unlabelled = await postAccepted(
      '/v1/alerts/alertmanager',
      alertmanagerBody([
        { status: 'firing', labels: { alertname: 'NodeRootShell' }, startsAt: '2026-03-14T15:01:00Z' },
      ]),
    );

    expect(second.workflowId).not.toBe(first.workflowId);
    expect(unlabelled.workflowId).not.toBe(first.workflowId);
    const [stored] = await intake.alerts(first.workflowId);
    expect(stored?.hostScoped).toBe(true);
    expect(stored?.target.node).toBe('node-a');
  });

  test('untargeted alerts of two detectors make two incidents', async () => {
    const alert = (detector: string) => ({
      detector,
      rule: 'Beaconing to known C2',
      priority: 'warning',
      time: '2026-03-14T15:02:00Z',
    });
    const first = await postAccepted('/v1/alerts', alert('netflow-watch'));
    const second = await postAccepted('/v1/alerts', alert('dns-watch'));

    expect(second.workflowId).not.toBe(first.workflowId);
  });
});

describe('alert identity', () => {
  const cveFinding = (namespace: string) => ({
    id: 'CVE-2024-3094',
    detector: 'trivy',
    rule: 'CVE-2024-3094',
    priority: 'critical',
    time: '2026-03-14T15:10:00Z',
    target: { namespace, workload: 'Deployment/catalog-svc' },
  });

  test('reused generic id starts each incident', async () => {
    const first = await postAccepted('/v1/alerts', cveFinding('shop-prod'));
    const second = await postAccepted('/v1/alerts', cveFinding('shop-staging'));

    expect(second.accepted).toBe(1);
    expect(second.workflowId).not.toBe(first.workflowId);
    expect((await intake.status(second.workflowId)).alertIds).toEqual(['CVE-2024-3094']);
  });

  test('generic alert reusing a Falcosidekick uuid is new evidence', async () => {
    const falco = await postAccepted('/v1/alerts/falco', {
      ...terminalShell,
      uuid: 'a1d0e000-0000-4000-8000-000000000001',
    });
    const generic = await postAccepted('/v1/alerts', {
      id: 'a1d0e000-0000-4000-8000-000000000001',
      detector: 'custom',
      rule: 'Terminal shell in container',
      priority: 'notice',
      time: '2026-03-14T15:11:00Z',
      target: { namespace: 'shop-prod', workload: 'Deployment/checkout-api' },
    });

    expect(generic.accepted).toBe(1);
    expect(generic.workflowId).toBe(falco.workflowId);
    const stored = await intake.alerts(falco.workflowId);
    const sources = stored
      .filter((alert) => alert.id === 'a1d0e000-0000-4000-8000-000000000001')
      .map((alert) => alert.source);
    expect(sources).toEqual(['falco', 'generic']);
  });

  test('redelivery of the same generic alert is counted once', async () => {
    const first = await postAccepted('/v1/alerts', cveFinding('shop-qa'));
    const again = await postAccepted('/v1/alerts', cveFinding('shop-qa'));

    expect(again.accepted).toBe(0);
    expect(again.workflowId).toBe(first.workflowId);
    expect((await intake.status(first.workflowId)).alertIds).toEqual(['CVE-2024-3094']);
  });
});

describe('resolved alerts', () => {
  test('resolved alert reaches the incident its body starts', async () => {
    const labels = { alertname: 'CryptoMinerDetected', namespace: 'batch', pod: 'miner-0' };
    const body = alertmanagerBody([
      { status: 'resolved', labels, startsAt: '2026-03-14T14:00:00Z' },
      { status: 'firing', labels, startsAt: '2026-03-14T15:00:00Z' },
    ]);
    const response = await intake.post('/v1/alerts/alertmanager', JSON.stringify(body));

    expect(response.status).toBe(202);
    const answer = z
      .object({ workflowId: z.string(), accepted: z.number(), resolvedWithoutIncident: z.number() })
      .parse(await response.json());
    expect(answer.resolvedWithoutIncident).toBe(0);
    expect(answer.accepted).toBe(2);
    const stored = await intake.alerts(answer.workflowId);
    expect(stored.map((alert) => alert.status)).toEqual(['firing', 'resolved']);
  });
});

describe('Falco list fields', () => {
  test('list field is stored as JSON text', async () => {
    const event = {
      ...terminalShell,
      uuid: '11570000-0000-4000-8000-000000000001',
      output_fields: { ...terminalShell.output_fields, 'ka.req.pod.containers.image': ['nginx', 'redis:7'] },
    };
    const answer = await postAccepted('/v1/alerts/falco', event);

    const stored = (await intake.alerts(answer.workflowId)).find((alert) => alert.id === event.uuid);
    expect(stored?.fields['ka.req.pod.containers.image']).toBe('["nginx","redis:7"]');
  });

  test('bad NDJSON line stores no alert', async () => {
    const good = { ...terminalShell, uuid: '11570000-0000-4000-8000-000000000002' };
    const body = `${JSON.stringify(good)}\n{"rule": "broken"}\n`;
    const response = await intake.post('/v1/alerts/falco', body, { 'content-type': 'application/x-ndjson' });

    expect(response.status).toBe(400);
    const answer = errorSchema.parse(await response.json());
    expect(answer.issues.length).toBeGreaterThan(0);
    expect(answer.issues.every((issue) => issue.path[0] === 1)).toBe(true);
    const again = await postAccepted('/v1/alerts/falco', good);
    expect(again.accepted).toBe(1);
  });
});
