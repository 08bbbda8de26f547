import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import type { WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { LocalEvidenceStore } from '../../activities/evidence/store';
import { demoTrustedImage } from '../../cli/commands/demo';
import { demoAlertBody, scenarioAlerts } from '../../cli/commands/demo-alerts';
import { verifyCommand } from '../../cli/commands/evidence';
import { incidentListQuery } from '../../cli/commands/incidents';
import type { Severity } from '../../domain/alert';
import type { GateName } from '../../domain/incident';
import type { IncidentResult } from '../../domain/response';
import { demoPod } from '../../tools/lab/demo';
import { labOperator } from '../../tools/lab/playbooks';
import { decideGateUpdate, statusQuery, type IncidentStatus } from '../../workflows/messages';
import { testEnv } from '../support/env';
import { kubeConfigFor } from '../support/kube';
import { gateChannel, startMainJobHarness, type MainJobHarness } from './support/harness';
import { checkoutDeployment, checkoutReplicaSet, createCheckoutWorkload, waitFor } from './support/workload';

/** A namespace of its own, so this incident never joins one that another test file starts on the demo pod. */
const namespace = 'shop-main-job';
const quietPeriodMs = 4000;

/** Severity of the incident after each alert, as the playbooks rate the alerts. */
const expectedSeverities: Severity[] = [
  // terminal-shell: a shell in one pod is P2.
  'P2',
  // container-drift: a Critical drop-and-execute is P1.
  'P1',
  // crypto-miner: a miner in one pod is P2, so the incident stays at P1.
  'P1',
];

const manifestLineSchema = z.object({ name: z.string() });

/** The parts of the report JSON that the test reads. */
const reportSchema = z.object({
  summary: z.object({ incidentId: z.string(), outcome: z.string(), alertCount: z.number() }),
  evidence: z.object({ verification: z.object({ ok: z.boolean() }).optional() }),
  decisions: z.array(z.object({ gate: z.string(), status: z.string() })),
});

/** Polls `read` until `done` returns true or the time runs out, and returns the last value for the test to assert. */
async function settle<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    value = await read();
  }
  return value;
}

describe('main job from Falco alerts to a closed incident', () => {
  const kubeConfig = kubeConfigFor('admin');
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const networking = kubeConfig.makeApiClient(NetworkingV1Api);
  let harness: MainJobHarness;
  let podUid: string;
  let incidentId: string;
  let incident: WorkflowHandle;
  const workflowIds: string[] = [];
  const severities: (Severity | undefined)[] = [];

  const status = (): Promise<IncidentStatus> => incident.query(statusQuery);
  const waitForGate = (gate: GateName) =>
    waitFor(`gate ${gate} to open`, async () => {
      const current = await status();
      return current.waitingGate === gate ? current : undefined;
    });
  const approve = (gate: GateName, reason: string, imageDigest?: string) =>
    incident.executeUpdate(decideGateUpdate, {
      args: [{ gate, decision: 'approve', decider: labOperator, channel: 'cli', reason, imageDigest }],
    });

  beforeAll(async () => {
    const node = testEnv().kube.nodes[0] ?? 'kwok-node-0';
    const workload = await createCheckoutWorkload(kubeConfig, namespace, node);
    podUid = workload.pod.metadata?.uid ?? '';
    harness = await startMainJobHarness('main-job', { quietPeriod: `${quietPeriodMs / 1000}s`, watchPeriod: '2s' });
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
  });

  it('joins the three alerts into one incident', async () => {
    for (const [index, alert] of scenarioAlerts.entries()) {
      const response = await harness.intake.inject({
        method: 'POST',
        url: '/v1/alerts/falco',
        headers: { authorization: `Bearer ${harness.token}`, 'content-type': 'application/json' },
        payload: demoAlertBody(alert.file, { namespace, pod: demoPod }),
      });
      expect(response.statusCode).toBe(202);
      const workflowId = response.json<{ workflowId: string }>().workflowId;
      workflowIds.push(workflowId);
      incident = harness.client.workflow.getHandle(workflowId);

      const rated = await waitFor(`alert ${index + 1} in incident ${workflowId}`, async () => {
        const current = await status();
        return current.alertCount > index && current.severity !== undefined ? current : undefined;
      });
      const settled = await settle(status, (current) => current.severity === expectedSeverities[index], 3000);
      severities.push(settled.severity ?? rated.severity);
    }

    incidentId = workflowIds[0] ?? '';
    expect(incidentId).toMatch(/^incident-[0-9a-f]{16}$/);
    expect(workflowIds).toEqual([incidentId, incidentId, incidentId]);
    const current = await status();
    expect(current.alertCount).toBe(3);
    expect(current.rules).toEqual(scenarioAlerts.map((alert) => alert.rule));
  });

  it('raises the severity as the playbooks rate each alert', async () => {
    expect(severities).toEqual(expectedSeverities);
    // The drop-and-execute alert, rated P1 by container-drift, moved the incident to that playbook.
    const current = await status();
    expect(current.playbook?.name).toBe('container-drift');
  });

  it('quarantines the pod at gate 1 without asking', async () => {
    const policies = await waitFor('the quarantine NetworkPolicy', async () => {
      const list = await networking.listNamespacedNetworkPolicy({ namespace });
      return list.items.length > 0 ? list.items : undefined;
    });
    expect(policies).toHaveLength(1);
    const selector = policies[0]?.spec?.podSelector?.matchLabels ?? {};
    expect(JSON.stringify(selector)).toContain(incidentId.replace(/^incident-/, ''));
    expect(policies[0]?.spec?.policyTypes).toEqual(['Ingress', 'Egress']);

    const pods = await core.listNamespacedPod({ namespace });
    const selected = pods.items.filter((pod) =>
      Object.entries(selector).every(([key, value]) => pod.metadata?.labels?.[key] === value),
    );
    expect(selected.map((pod) => pod.metadata?.name)).toEqual([demoPod]);
    const isolate = (await status()).gates.find((gate) => gate.gate === 'isolate');
    expect(isolate?.result?.status).toBe('auto');
    expect(isolate?.result?.decision).toBe('approve');
  });

  it('captures evidence that verifies', async () => {
    await waitForGate('escalate');
    const lines: string[] = [];
    const output = { out: (text: string) => lines.push(text), err: (text: string) => lines.push(text) };

    const exitCode = await verifyCommand(incidentId, { dir: harness.evidenceDir }, output);

    expect(lines[0]).toMatch(/^incident-\w+: verified \d+ custody entries in .*every artefact matches its hash$/);
    expect(exitCode).toBe(0);
    const manifest = await new LocalEvidenceStore(harness.evidenceDir).readManifest(incidentId);
    const names = manifest
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => manifestLineSchema.parse(JSON.parse(line)).name);
    expect(names).toEqual(expect.arrayContaining(['objects/pod', 'objects/owner-deployment']));
    // The evidence stage stores the bodies of the alerts that arrived before it, at least the first one.
    expect(names.filter((name) => name.startsWith('alerts/')).length).toBeGreaterThanOrEqual(1);
  });

  it('pages the webhook stand-in when gate 2 is approved', async () => {
    const gate = (await waitForGate('escalate')).gates.find((candidate) => candidate.gate === 'escalate');
    expect(gate?.approvers).toContain(labOperator);
    const posted = await harness.slack.waitForCall(
      'chat.postMessage',
      (call) => call.args['channel'] === gateChannel.name,
    );
    expect(JSON.stringify(posted.args)).toContain(incidentId);

    const decided = await approve('escalate', 'the miner needs the on-call security team');

    expect(decided.status).toBe('approved');
    const [event] = await waitFor('a page at the stand-in', async () =>
      harness.escalation.events.length > 0 ? harness.escalation.events : undefined,
    );
    const severity = (await status()).severity ?? 'P3';
    const pagerDutySeverity = { P0: 'critical', P1: 'error', P2: 'warning', P3: 'info' } as const;
    expect(event?.routing_key).toBe(harness.routingKey);
    expect(event?.dedup_key).toBe(incidentId);
    expect(event?.payload.severity).toBe(pagerDutySeverity[severity]);
    expect(event?.payload.summary).toContain(incidentId);
    expect(event?.payload.component).toBe(incidentId);
    expect(harness.escalation.requests.map((request) => request.contentType)).toEqual(['application/json']);
  });

  it('replaces the pod during eradication', async () => {
    await waitFor('the eradicate phase to pass', async () => {
      const current = await status();
      return ['recover', 'closed'].includes(current.phase) || current.timeline.some(isQuietStart) || undefined;
    });

    // The incident follows container-drift, which detaches the pod and deletes it at P1, so the ReplicaSet
    // replaces it.
    const pods = await settle(
      () => core.listNamespacedPod({ namespace }),
      (list) => !list.items.some((pod) => pod.metadata?.uid === podUid),
      15_000,
    );
    expect(pods.items.map((pod) => pod.metadata?.uid)).not.toContain(podUid);
    const replicaSet = await settle(
      () => apps.readNamespacedReplicaSet({ namespace, name: checkoutReplicaSet }),
      (read) => read.status?.readyReplicas === 2,
      15_000,
    );
    expect(replicaSet.status?.readyReplicas).toBe(2);
  });

  it('restores on the trusted digest after the quiet period', async () => {
    const opened = await waitForGate('restore');
    const quietStart = opened.timeline.find(isQuietStart);
    const gateOpened = opened.timeline.find((entry) => entry.summary.startsWith('gate restore opened'));
    expect(quietStart).toBeDefined();
    expect(gateOpened).toBeDefined();
    expect(Date.parse(gateOpened?.at ?? '') - Date.parse(quietStart?.at ?? '')).toBeGreaterThanOrEqual(quietPeriodMs);

    const decided = await approve('restore', 'the image is rebuilt from a clean base', demoTrustedImage);

    expect(decided.status).toBe('approved');
    const deployment = await waitFor(`Deployment ${checkoutDeployment} on the trusted digest`, async () => {
      const read = await apps.readNamespacedDeployment({ namespace, name: checkoutDeployment });
      return read.spec?.template.spec?.containers[0]?.image === demoTrustedImage ? read : undefined;
    });
    expect(deployment.spec?.template.metadata?.annotations).toEqual(
      expect.objectContaining({ 'firebreak.dev/restored-for': incidentId }),
    );
    const policies = await settle(
      () => networking.listNamespacedNetworkPolicy({ namespace }),
      (list) => list.items.length === 0,
      10_000,
    );
    expect(policies.items.map((policy) => policy.metadata?.name)).toEqual([]);
    const restored = await waitFor('a pod running the trusted digest', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=checkout-api' });
      return list.items.find(
        (pod) => pod.spec?.containers[0]?.image === demoTrustedImage && pod.status?.phase === 'Running',
      );
    });
    expect(restored.status?.phase).toBe('Running');
    const labelled = await core.listNamespacedPod({ namespace });
    const fingerprint = incidentId.replace(/^incident-/, '');
    const stillQuarantined = labelled.items.filter((pod) => JSON.stringify(pod.metadata?.labels).includes(fingerprint));
    expect(stillQuarantined.map((pod) => pod.metadata?.name)).toEqual([]);
  });

  it('writes the incident report', async () => {
    const result: IncidentResult = await incident.result();

    expect(result.outcome).toBe('restored');
    const { runId } = await incident.describe();
    expect(result.report?.markdownPath).toBe(join(harness.reportDir, incidentId, 'runs', runId, 'report.md'));
    const markdown = readFileSync(result.report?.markdownPath ?? '', 'utf8');
    expect(markdown).toContain(incidentId);
    expect(markdown).toContain(labOperator);
    expect(markdown).toContain(demoTrustedImage);
    for (const alert of scenarioAlerts) {
      expect(markdown).toContain(alert.rule);
    }
    const lines: string[] = [];
    const output = { out: (text: string) => lines.push(text), err: (text: string) => lines.push(text) };
    const reportDir = harness.reportDir;
    expect(await verifyCommand(incidentId, { dir: harness.evidenceDir, reportDir }, output)).toBe(0);
    expect(lines[0]).toMatch(/ verified \d+ custody entries in .*every artefact matches its hash$/);
    const report = reportSchema.parse(JSON.parse(readFileSync(result.report?.jsonPath ?? '', 'utf8')));
    expect(report.summary.incidentId).toBe(incidentId);
    expect(report.summary.outcome).toBe('restored');
    expect(report.summary.alertCount).toBe(3);
    expect(report.evidence.verification?.ok).toBe(true);
    expect(report.decisions.map((decision) => [decision.gate, decision.status])).toEqual([
      ['isolate', 'auto'],
      ['escalate', 'approved'],
      ['restore', 'approved'],
    ]);
  });

  it('lists the closed incident with its search attributes', async () => {
    const severity = (await status()).severity;
    const query = `${incidentListQuery({ phase: 'closed', namespace })} AND WorkflowId = '${incidentId}'`;

    const listed = await waitFor('the closed incident in the workflow list', async () => {
      for await (const execution of harness.client.workflow.list({ query })) {
        if (execution.status.name === 'COMPLETED') return execution;
      }
      return undefined;
    });

    expect(listed.searchAttributes).toEqual(
      expect.objectContaining({
        FirebreakPhase: ['closed'],
        FirebreakSeverity: [severity],
        FirebreakNamespace: [namespace],
        FirebreakWorkload: [`Deployment/${checkoutDeployment}`],
        FirebreakRule: ['Terminal shell in container'],
        FirebreakGate: ['none'],
        FirebreakAlertCount: [3],
      }),
    );
  });
});

function isQuietStart(entry: { summary: string }): boolean {
  return entry.summary.startsWith('quiet period of');
}
