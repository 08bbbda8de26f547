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
