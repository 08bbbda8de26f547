import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEvidenceActivities } from '../../../activities/evidence';
import { LocalEvidenceStore } from '../../../activities/evidence/store';
import { createReportActivities } from '../../../activities/report';
import { escapeMarkdown } from '../../../activities/report/markdown';
import type { IncidentReport } from '../../../activities/report/report';
import { kubeConfigFor } from '../../support/kube';
import { createLabWorkload, deleteNamespace, type LabWorkload } from '../evidence/lab-pod';
import { incidentRecordFor } from './incident-record';

const sections = [
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
];

describe('writeIncidentReport', () => {
  const kubeConfig = kubeConfigFor('admin');
  let workload: LabWorkload;
  let root: string;
  let markdown: string;
  let json: IncidentReport;
  let evidenceHashes: string[];
  let custodyHead: { sha256: string; entries: number };
  let storedRecord: unknown;

  beforeAll(async () => {
    workload = await createLabWorkload(kubeConfig);
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-report-'));
    const store = new LocalEvidenceStore(path.join(root, 'evidence'));
    const record = incidentRecordFor(workload.target);
    const evidence = createEvidenceActivities({ kubeConfig, store, execPlanOptions: { fileChangeRoot: '.' } });
    const collected = await evidence.collectEvidence({
      incidentId: record.incidentId,
      target: workload.target,
      kinds: ['objects', 'logs', 'exec', 'checkpoint'],
      limits: { execDeadlineMs: 10_000 },
    });
    evidenceHashes = collected.artefacts.map((ref) => ref.sha256);
    custodyHead = { sha256: collected.custodyHeadSha256 ?? '', entries: collected.custodyEntryCount ?? 0 };

    const reports = createReportActivities({ reportDir: path.join(root, 'reports'), store });
    const written = await reports.writeIncidentReport({
      incidentId: record.incidentId,
      record: { ...record, evidence: collected },
    });
    markdown = readFileSync(written.markdownPath, 'utf8');
    json = JSON.parse(readFileSync(written.jsonPath, 'utf8'));
    storedRecord = JSON.parse(readFileSync(path.join(path.dirname(written.jsonPath), 'record.json'), 'utf8'));
  });
  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
    await deleteNamespace(kubeConfig, workload.namespace);
  });

  test('contains every section in order', () => {
    const positions = sections.map((heading) => markdown.indexOf(`\n${heading}\n`));
    expect(positions.every((position) => position > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  test('summary carries the record values', () => {
    expect(markdown).toContain('# Incident report: incident-5e1f0c9a7b3d2e11');
    expect(markdown).toContain('- Outcome: contained and restored from a trusted image');
    expect(markdown).toContain('- Severity: P1; phase: closed');
    expect(markdown).toContain('container-drift@3');
    expect(markdown).toContain('(4 h 30 min)');
    expect(markdown).toContain('- Alerts: 7 (2 redeliveries)');
  });

  test('severity and clocks show history and status', () => {
    expect(markdown).toContain('| P2 | 2024-12-04T12:00:03.000Z | first alert: Terminal shell in container (Notice) |');
    expect(markdown).toContain(
      '| detect | 15 min | 2024-12-04T12:00:03.000Z | 2024-12-04T12:15:03.000Z | met at 2024-12-04T12:06:30.000Z |',
    );
    expect(markdown).toContain('missed at 2024-12-04T16:00:03.000Z');
  });

  test('target names the pod from the run', () => {
    expect(markdown).toContain(`- Pod: ${workload.namespace}/${workload.target.pod} (uid \`${workload.target.uid}\``);
    expect(markdown).toContain('- Workload: Deployment checkout');
  });

  test('timeline escapes attacker-controlled text', () => {
    expect(markdown).toContain('shell=bash user=root \\| cmdline=&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(markdown).not.toContain('<script>');
  });

  test('attack chain lists mapped stages', () => {
    expect(markdown).toContain('| execution | 2024-12-04T12:00:03.000Z | tag:T1059, tag:mitre\\_execution |');
    expect(json.attackChain.map((stage) => stage.stage)).toEqual(['execution', 'persistence']);
  });

  test('decisions show who and when', () => {
    expect(markdown).toContain(
      '| isolate | approved | approve | U024BE7LH | slack | 2024-12-04T12:06:30.000Z | miner binary dropped |',
    );
    expect(markdown).toContain(
      '| escalate | timed\\_out (default reject applied) | reject | - | - | 2024-12-04T13:06:30.000Z | - |',
    );
  });

  test('evidence table lists every artefact hash and the verification', () => {
    for (const sha256 of evidenceHashes) expect(markdown).toContain(`\`${sha256}\``);
    expect(markdown).toContain(
      `Verified against the head recorded at collection (\`${custodyHead.sha256}\` with ${custodyHead.entries} entries)`,
    );
    expect(markdown).toContain(`Custody chain head: \`${custodyHead.sha256}\` after ${custodyHead.entries} entries.`);
    expect(json.evidence.verification?.ok).toBe(true);
    expect(json.evidence.verifiedAgainstRecordedHead).toBe(true);
    const checkpoint = json.evidence.artefacts.find((row) => row.name === 'checkpoint/app');
    expect(checkpoint?.unsupported).toBe(true);
  });

  test('record.json keeps the custody head recorded at collection', () => {
    expect(storedRecord).toMatchObject({
      evidence: { custodyHeadSha256: custodyHead.sha256, custodyEntryCount: custodyHead.entries },
    });
  });

  test('containment and recovery are split', () => {
    expect(json.containment.map((step) => step.step)).toEqual(['quarantine', 'scale-to-zero']);
    expect(json.recovery.map((step) => [step.action, step.status, step.at])).toEqual([
      ['releasePodQuarantine', 'done', '2024-12-04T16:12:00.000Z'],
      ['scaleWorkload', 'pending', undefined],
      ['restore', 'done', '2024-12-04T16:11:00.000Z'],
    ]);
    expect(json.recovery[0]?.summary).toBe(
      'undoes quarantine: NetworkPolicy firebreak-quarantine-5e1f0c9a7b3d2e11 denies all traffic',
    );
    expect(json.recovery[2]?.summary).toMatch(/^Deployment checkout container app rolled out on /);
    expect(markdown).toContain('releasePodQuarantine done at 2024-12-04T16:12:00.000Z');
  });

  test('root cause answers the whys the data covers', () => {
    const answers = json.rootCause.map((why) => why.answer);
    expect(answers[0]).toContain(
      'Rules Terminal shell in container, Drop and execute new binary in container raised 7 alert(s)',
    );
    expect(answers[1]).toBe('Alerts map to execution, persistence.');
    expect(answers[2]).toBeUndefined();
    expect(answers[3]).toContain('app may run as root');
    expect(answers[4]).toContain('eradicate (due 2024-12-04T16:00:03.000Z)');
    expect(markdown).toContain('_Not answered by the recorded data: fill in at the review._');
  });

  test('hardening findings come from the captured pod spec', () => {
    if ('unavailable' in json.hardening) throw new Error(`hardening was not assessed: ${json.hardening.unavailable}`);
    const ids = json.hardening.findings.map((finding) => finding.id);
    expect(ids).toEqual(
      expect.arrayContaining(['runsAsRoot', 'writableRootFilesystem', 'imageWithoutDigest', 'missingResourceLimits']),
    );
    expect(ids).not.toContain('privileged');
    expect(markdown).toContain('image registry.example/shop/checkout:1.4.2 is not pinned by digest');
  });

  test('follow-up actions cover open inverses, missed clocks and fixes', () => {
    expect(json.followUps).toEqual(
      expect.arrayContaining([
        'Undo containment step scale-to-zero (Deployment checkout scaled from 3 to 0): its inverse is pending.',
        'Review why the eradicate clock was missed (due 2024-12-04T16:00:03.000Z).',
        'Check approver availability for the escalate gate: it timed out and the default reject applied.',
      ]),
    );
    expect(markdown).toContain('- [ ] Container app: set readOnlyRootFilesystem: true');
  });

  test('rejects a record that does not match the schema', async () => {
    const reports = createReportActivities({ reportDir: path.join(root, 'reports') });
    await expect(
      reports.writeIncidentReport({ incidentId: 'incident-x', record: { incidentId: 'incident-x' } }),
    ).rejects.toMatchObject({
      type: 'ReportInvalidInput',
      nonRetryable: true,
    });
  });
});

describe('escapeMarkdown', () => {
  test('escapes markup and HTML', () => {
    expect(escapeMarkdown('a|b *c* <img src=x>\n[link](x)')).toBe('a\\|b \\*c\\* &lt;img src=x&gt;\\\\n\\[link\\](x)');
  });
});
