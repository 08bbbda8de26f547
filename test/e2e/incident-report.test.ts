import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetworkingV1Api } from '@kubernetes/client-node';
import type { WorkflowHandle } from '@temporalio/client';
import { LocalEvidenceStore } from '../../activities/evidence/store';
import { custodyEntrySchema } from '../../activities/evidence/custody';
import { escapeMarkdown } from '../../activities/report/markdown';
import type { IncidentReport } from '../../activities/report/report';
import { demoAlertBody, postFalcoAlert } from '../../cli/commands/demo-alerts';
import { verifyCommand } from '../../cli/commands/evidence';
import { reportCommand } from '../../cli/commands/report';
import type { GateName } from '../../domain/incident';
import { incidentRecordSchema, type IncidentRecord, type IncidentResult } from '../../domain/response';
import { labOperator } from '../../tools/lab/playbooks';
import { decideGateUpdate, statusQuery, type IncidentStatus } from '../../workflows/messages';
import { testEnv } from '../support/env';
import { kubeConfigFor } from '../support/kube';
import { startMainJobHarness, type MainJobHarness } from './support/harness';
import {
  absentFindings,
  addedCapabilities,
  createInsecureWorkload,
  expectedFindings,
  insecureContainer,
  insecureDeployment,
  trustedOrdersImage,
} from './support/insecure-workload';
import { waitFor } from './support/workload';

/** A namespace of its own, so no other test's alerts join this incident. */
const namespace = 'shop-incident-report';
const alerts = [
  { file: 'falcosidekick-terminal-shell.json', rule: 'Terminal shell in container' },
  { file: 'demo-drop-and-exec.json', rule: 'Drop and execute new binary in container' },
];
const escalateReason = 'the shell was contained before anything left the pod';
const restoreReason = 'orders-api rebuilt from a clean base image';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Runs `firebreak report` as the CLI does and returns what it printed. */
async function printReport(incidentId: string, options: Parameters<typeof reportCommand>[1]): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const exitCode = await reportCommand(incidentId, options, {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
  });
  if (exitCode !== 0) throw new Error(`firebreak report exited ${exitCode}: ${err.join('\n')}`);
  return out.join('\n');
}

describe('incident report of an end-to-end incident', () => {
  const kubeConfig = kubeConfigFor('admin');
  const networking = kubeConfig.makeApiClient(NetworkingV1Api);
  let harness: MainJobHarness;
  let podName: string;
  let podUid: string;
  let incidentId: string;
  let incident: WorkflowHandle;
  let policyName: string;
  const decidedWithin: Partial<Record<GateName, { fromMs: number; toMs: number }>> = {};
  let result: IncidentResult;
  let record: IncidentRecord;
  let recordPath: string;
  let report: IncidentReport;
  let markdown: string;

  const status = (): Promise<IncidentStatus> => incident.query(statusQuery);
  const waitForGate = (gate: GateName) =>
    waitFor(`gate ${gate} to open`, async () => ((await status()).waitingGate === gate ? true : undefined), 60_000);
  async function decide(gate: GateName, decision: 'approve' | 'reject', reason: string, imageDigest?: string) {
    await waitForGate(gate);
    const fromMs = Date.now();
    const decided = await incident.executeUpdate(decideGateUpdate, {
      args: [{ gate, decision, decider: labOperator, channel: 'cli', reason, imageDigest }],
    });
    decidedWithin[gate] = { fromMs, toMs: Date.now() };
    return decided;
  }
  /** When each alert of `alerts` was posted and when the incident had counted it. */
  const alertWindows: { fromMs: number; toMs: number }[] = [];
  const withinAlert = (at: string | undefined, index: number) => {
    const window = alertWindows[index];
    const ms = Date.parse(at ?? '');
    return window !== undefined && ms >= window.fromMs - 1000 && ms <= window.toMs + 1000;
  };
  const within = (at: string | undefined, gate: GateName) => {
    const window = decidedWithin[gate];
    const ms = Date.parse(at ?? '');
    return window !== undefined && ms >= window.fromMs - 1000 && ms <= window.toMs + 1000;
  };

  beforeAll(async () => {
    const pod = await createInsecureWorkload(kubeConfig, namespace, testEnv().kube.nodes[0] ?? 'kwok-node-0');
    podName = pod.metadata?.name ?? '';
    podUid = pod.metadata?.uid ?? '';
    harness = await startMainJobHarness('incident-report', { quietPeriod: '3s', watchPeriod: '2s' });
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
  });

  it('opens one incident from alerts posted to the intake', async () => {
    const workflowIds: string[] = [];
    for (const [index, alert] of alerts.entries()) {
      const body = demoAlertBody(alert.file, { namespace, pod: podName });
      const fromMs = Date.now();
      const accepted = await postFalcoAlert(harness.intakeUrl, harness.token, body);
      workflowIds.push(accepted.workflowId);
      incident = harness.client.workflow.getHandle(accepted.workflowId);
      await waitFor(`alert ${index + 1} in the incident`, async () =>
        (await status()).alertCount > index ? true : undefined,
      );
      alertWindows.push({ fromMs, toMs: Date.now() });
    }

    incidentId = workflowIds[0] ?? '';
    expect(incidentId).toMatch(/^incident-[0-9a-f]{16}$/);
    expect(workflowIds).toEqual([incidentId, incidentId]);
    expect((await status()).rules).toEqual(alerts.map((alert) => alert.rule));
  });

  it('quarantines the pod without asking', async () => {
    const policies = await waitFor('the quarantine NetworkPolicy', async () => {
      const list = await networking.listNamespacedNetworkPolicy({ namespace });
      return list.items.length > 0 ? list.items : undefined;
    });
    expect(policies).toHaveLength(1);
    policyName = policies[0]?.metadata?.name ?? '';
    expect(policyName).toBe(`firebreak-quarantine-${incidentId.replace(/^incident-/, '')}`);
  });

  it('closes after the people decide gates 2 and 3', async () => {
    expect((await decide('escalate', 'reject', escalateReason)).status).toBe('rejected');
    expect((await decide('restore', 'approve', restoreReason, trustedOrdersImage)).status).toBe('approved');

    result = await incident.result();

    expect(result.outcome).toBe('restored');
    expect(result.report?.markdownPath).toBeDefined();
    recordPath = join(harness.reportDir, incidentId, 'record.json');
    record = incidentRecordSchema.parse(JSON.parse(readFileSync(recordPath, 'utf8')));
    expect(record.phase).toBe('closed');
  });

  it('prints the written report through firebreak report', async () => {
    const options = { reportDir: harness.reportDir, evidenceDir: harness.evidenceDir };
    const printed = await printReport(incidentId, { ...options, format: 'md' });
    expect(`${printed}\n`).toBe(readFileSync(result.report?.markdownPath ?? '', 'utf8'));

    // Built again from the stored record and the evidence store, as `firebreak report --record` does.
    markdown = await printReport(incidentId, { ...options, format: 'md', record: recordPath });
    report = JSON.parse(await printReport(incidentId, { ...options, format: 'json', record: recordPath }));
    for (const heading of [
      '## Summary',
      '## Severity and clocks',
      '## Target',
      '## Timeline',
      '## Attack chain',
      '## Decisions',
      '## Evidence',
      '## Containment and recovery',
      '## Root cause (five whys)',
      '## Hardening findings',
      '## Follow-up actions',
    ]) {
      expect(markdown.split('\n')).toContain(heading);
    }
  });

  it('summary names the incident and its outcome', () => {
    expect(report.summary.incidentId).toBe(incidentId);
    expect(report.summary.outcome).toBe('restored');
    expect(report.summary.alertCount).toBe(alerts.length);
    expect(report.summary.rules).toEqual(alerts.map((alert) => alert.rule));
    expect(report.summary.target).toBe(`${namespace}/${podName} (Deployment ${insecureDeployment})`);
    expect(markdown).toContain(`# Incident report: ${incidentId}`);
  });

  it('target carries the real pod uid and name', () => {
    expect(report.target).toEqual(expect.objectContaining({ namespace, pod: podName, uid: podUid }));
    expect(markdown).toContain(`(uid \`${podUid}\``);
  });

  it('severity and clocks match the record', () => {
    expect(report.severity.current).toBe(record.severity);
    expect(report.severity.history).toEqual(record.severityHistory);
    expect(record.severityHistory.length).toBeGreaterThan(0);
    expect(report.clocks.map(({ status: _status, ...clock }) => clock)).toEqual(record.clocks);
    expect(record.clocks.length).toBeGreaterThan(0);
    for (const clock of record.clocks) {
      expect(Date.parse(clock.startedAt)).toBeGreaterThanOrEqual(Date.parse(record.openedAt));
      expect(markdown).toContain(`| ${clock.name} | `);
      expect(markdown).toContain(clock.dueAt);
    }
    expect(markdown).toContain(`- Severity: ${record.severity}; phase: closed`);
  });

  it('timeline lists the alerts and the decisions with who and when', () => {
    const entries = report.timeline.entries;
    for (const alert of alerts) {
      expect(entries.some((entry) => entry.kind === 'alert' && entry.summary.includes(alert.rule))).toBe(true);
    }
    for (const gate of ['escalate', 'restore'] as const) {
      const decision = entries.find(
        (entry) => entry.kind === 'decision' && entry.summary.includes(gate) && entry.summary.includes(labOperator),
      );
      expect(decision).toBeDefined();
      expect(within(decision?.at, gate)).toBe(true);
    }
  });

  it('decisions record who decided, when, how and why', () => {
    const byGate = new Map(report.decisions.map((gate) => [gate.gate, gate]));
    expect(byGate.get('isolate')).toEqual(expect.objectContaining({ status: 'auto', decision: 'approve' }));
    const escalate = byGate.get('escalate');
    expect(escalate).toEqual(
      expect.objectContaining({ status: 'rejected', decider: labOperator, channel: 'cli', reason: escalateReason }),
    );
    expect(within(escalate?.at, 'escalate')).toBe(true);
    const restore = byGate.get('restore');
    expect(restore).toEqual(
      expect.objectContaining({ status: 'approved', decider: labOperator, channel: 'cli', reason: restoreReason }),
    );
    expect(within(restore?.at, 'restore')).toBe(true);
    expect(markdown).toContain(
      `| escalate | rejected | reject | ${escapeMarkdown(labOperator)} | cli | ${escapeMarkdown(escalate?.at ?? '')} |`,
    );
  });

  it('attack chain comes from the MITRE tags of the alerts', () => {
    const stages = new Map(report.attackChain.map((stage) => [stage.stage, stage]));
    // The alerts carry T1059 with mitre_execution, and TA0003 with mitre_persistence; the intake keeps the
    // tactic names without their prefix.
    expect(stages.get('execution')?.evidence).toEqual(['tag:T1059', 'tag:execution']);
    expect(stages.get('persistence')?.evidence).toEqual(['tag:TA0003', 'tag:persistence']);
    expect([...stages.keys()]).toEqual(['execution', 'persistence']);
  });

  it('attack chain dates each stage by the alert that showed it', () => {
    const stages = new Map(report.attackChain.map((stage) => [stage.stage, stage]));
    const execution = stages.get('execution')?.firstSeen;
    const persistence = stages.get('persistence')?.firstSeen;
    // The terminal shell alert carries T1059 (execution), the dropped binary alert TA0003 (persistence).
    expect(withinAlert(execution, 0)).toBe(true);
    expect(withinAlert(persistence, 1)).toBe(true);
    expect(markdown).toContain(`| execution | ${escapeMarkdown(execution ?? '-')} | tag:T1059, tag:execution |`);
    expect(markdown).toContain(`| persistence | ${escapeMarkdown(persistence ?? '-')} | tag:TA0003, tag:persistence |`);
  });

  it('evidence table hashes equal the files in the store', () => {
    const store = new LocalEvidenceStore(harness.evidenceDir);
    const rows = report.evidence.artefacts;
    const manifest = readFileSync(store.manifestLocation(incidentId), 'utf8').trim().split('\n');
    expect(rows.map((row) => row.name)).toEqual(
      manifest.map((line) => custodyEntrySchema.parse(JSON.parse(line)).name),
    );
    for (const row of rows) {
      const bytes = readFileSync(store.objectPath(row.sha256));
      expect({ name: row.name, sha256: sha256(bytes), bytes: bytes.length }).toEqual({
        name: row.name,
        sha256: row.sha256,
        bytes: row.bytes,
      });
      expect(markdown).toContain(`\`${row.sha256}\``);
    }
    const names = rows.map((row) => row.name);
    expect(names).toEqual(
      expect.arrayContaining(['objects/pod', 'objects/owner-replicaset', 'objects/owner-deployment']),
    );
    expect(names.filter((name) => name.startsWith('alerts/')).length).toBeGreaterThanOrEqual(1);
    const pod = rows.find((row) => row.name === 'objects/pod');
    expect(pod?.source).toBe(`Pod ${namespace}/${podName}`);
    expect(pod?.state).toBe('complete');
  });

  it('evidence verifies against the head the workflow recorded', async () => {
    const entries = readFileSync(new LocalEvidenceStore(harness.evidenceDir).manifestLocation(incidentId), 'utf8')
      .trim()
      .split('\n')
      .map((line) => custodyEntrySchema.parse(JSON.parse(line)));
    expect(record.evidence?.custodyHeadSha256).toBe(entries.at(-1)?.entrySha256);
    expect(record.evidence?.custodyEntryCount).toBe(entries.length);
    expect(report.evidence.verifiedAgainstRecordedHead).toBe(true);
    expect(report.evidence.verification?.ok).toBe(true);

    const lines: string[] = [];
    const output = { out: (text: string) => lines.push(text), err: (text: string) => lines.push(text) };
    const exitCode = await verifyCommand(
      incidentId,
      { dir: harness.evidenceDir, reportDir: harness.reportDir },
      output,
    );

    expect(lines).toEqual([
      `${incidentId}: verified ${entries.length} custody entries in ${record.evidence?.manifestPath}; every artefact matches its hash`,
      `chain head ${record.evidence?.custodyHeadSha256} matches the head recorded in ${recordPath}`,
    ]);
    expect(exitCode).toBe(0);
  });

  it('containment and recovery name the NetworkPolicy created', () => {
    const quarantine = report.containment.find((step) => step.step === 'quarantine');
    expect(quarantine?.status).toBe('done');
    expect(quarantine?.summary).toBe(`quarantined ${namespace}/${podName} with NetworkPolicy ${policyName}`);
    expect(quarantine?.inverse).toEqual(expect.objectContaining({ activity: 'releasePodQuarantine', status: 'done' }));

    const release = report.recovery.find((step) => step.action === 'releasePodQuarantine');
    expect(release?.status).toBe('done');
    expect(release?.summary).toBe(`undoes quarantine: ${quarantine?.summary}`);
    const rollout = report.recovery.find((step) => step.action === 'restore');
    expect(rollout).toEqual(
      expect.objectContaining({
        status: 'done',
        summary: `Deployment/${insecureDeployment} container ${insecureContainer} rolled out on ${trustedOrdersImage}`,
      }),
    );
    const recoverySection = markdown.slice(markdown.indexOf('### Recovery'), markdown.indexOf('## Root cause'));
    expect(recoverySection).toContain(`| releasePodQuarantine | ${escapeMarkdown(release?.summary ?? '')} |`);
  });

  it('root cause answers the whys the data covers', () => {
    expect(report.rootCause.map((why) => why.why)).toEqual([1, 2, 3, 4, 5]);
    const [first, second, , fourth] = report.rootCause;
    expect(first?.answer).toContain(`on ${namespace}/${podName}`);
    expect(first?.answer).toContain(alerts[0]?.rule);
    expect(second?.answer).toBe('Alerts map to execution, persistence.');
    expect(fourth?.answer).toContain(`${insecureContainer} runs as root (runAsUser 0)`);
    expect(fourth?.answer).toContain(`${insecureContainer} adds capabilities ${addedCapabilities.join(', ')}`);
  });

  it('hardening lists each finding the pod has and none it lacks', () => {
    if (!('findings' in report.hardening)) throw new Error(`hardening not assessed: ${report.hardening.unavailable}`);
    const findings = report.hardening.findings;
    expect(findings.map((finding) => finding.id).sort()).toEqual([...expectedFindings].sort());
    for (const id of absentFindings) expect(findings.map((finding) => finding.id)).not.toContain(id);
    expect(findings.every((finding) => finding.container === insecureContainer)).toBe(true);
    for (const finding of findings) expect(markdown).toContain(`| ${escapeMarkdown(finding.title)} |`);
  });

  it('follow-up actions carry each fix and the review', () => {
    if (!('findings' in report.hardening)) throw new Error('hardening not assessed');
    for (const finding of report.hardening.findings) {
      expect(report.followUps).toContain(`Container ${insecureContainer}: ${finding.fix} (${finding.title}).`);
    }
    expect(report.followUps.at(-1)).toBe('Hold the post-incident review and fill in the unanswered whys.');
    expect(markdown).toContain('- [ ] Hold the post-incident review and fill in the unanswered whys.');
  });
});
