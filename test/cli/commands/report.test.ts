import { Command } from 'commander';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendCustodyEntry } from '../../../activities/evidence/custody';
import { LocalEvidenceStore } from '../../../activities/evidence/store';
import { buildIncidentReport, createReportActivities, writeReportFiles } from '../../../activities/report';
import { registerReportCommands } from '../../../cli/commands/report';
import { incidentRecordFor, sampleTarget } from '../../activities/report/incident-record';

describe('firebreak report', () => {
  const record = incidentRecordFor(sampleTarget);
  let root: string;
  let stdout: string[];
  let stderr: string[];
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-report-cli-'));
    stdout = [];
    stderr = [];
  });
  afterEach(() => {
    process.exitCode = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  async function report(...args: string[]): Promise<typeof process.exitCode> {
    const program = new Command('firebreak').exitOverride();
    registerReportCommands(program, { out: (text) => stdout.push(text), err: (text) => stderr.push(text) });
    await program.parseAsync(['report', ...args], { from: 'user' });
    return process.exitCode;
  }

  test('prints the report the activity wrote', async () => {
    const reportDir = path.join(root, 'reports');
    const written = await createReportActivities({ reportDir }).writeIncidentReport({
      incidentId: record.incidentId,
      record,
    });

    expect(await report(record.incidentId, '--report-dir', reportDir)).toBe(0);
    expect(`${stdout.join('\n')}\n`).toBe(readFileSync(written.markdownPath, 'utf8'));
  });

  test('writes the JSON report to a file', async () => {
    const reportDir = path.join(root, 'reports');
    await createReportActivities({ reportDir }).writeIncidentReport({ incidentId: record.incidentId, record });
    const out = path.join(root, 'report.json');

    expect(await report(record.incidentId, '--report-dir', reportDir, '--format', 'json', '--out', out)).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).summary.incidentId).toBe(record.incidentId);
  });

  test('keeps the report of each run of an incident id', async () => {
    const reportDir = path.join(root, 'reports');
    const firstRunId = '0b1c2d3e-0000-4000-8000-000000000001';
    const laterRunId = '0b1c2d3e-0000-4000-8000-000000000002';
    const laterRecord = { ...record, outcome: 'closed without containment' };
    const firstPaths = await writeReportFiles(
      reportDir,
      record.incidentId,
      buildIncidentReport(record, undefined),
      record,
      firstRunId,
    );
    await writeReportFiles(
      reportDir,
      record.incidentId,
      buildIncidentReport(laterRecord, undefined),
      laterRecord,
      laterRunId,
    );

    expect(firstPaths.markdownPath).toBe(path.join(reportDir, record.incidentId, 'runs', firstRunId, 'report.md'));
    expect(await report(record.incidentId, '--report-dir', reportDir, '--format', 'json')).toBe(0);
    expect(JSON.parse(stdout.join('\n')).summary.outcome).toBe('closed without containment');
    stdout = [];
    expect(await report(record.incidentId, '--report-dir', reportDir, '--format', 'json', '--run-id', firstRunId)).toBe(
      0,
    );
    expect(JSON.parse(stdout.join('\n')).summary.outcome).toBe(record.outcome);
  });

  test('rejects a run id that is not a UUID', async () => {
    expect(await report(record.incidentId, '--report-dir', root, '--run-id', '../../etc')).toBe(1);
    expect(stderr.join('\n')).toContain('invalid run id');
  });

  test('builds the report from a record file', async () => {
    const recordPath = path.join(root, 'record.json');
    writeFileSync(recordPath, JSON.stringify(record));

    const code = await report(record.incidentId, '--record', recordPath, '--evidence-dir', path.join(root, 'evidence'));
    expect(code).toBe(0);
    const text = stdout.join('\n');
    expect(text).toContain('## Follow-up actions');
    expect(text).toContain('Not assessed: the pod object was not captured.');
  });

  /** Stores two artefacts for the record's incident and returns the chain head after them. */
  async function storeEvidence(evidenceDir: string): Promise<string> {
    const store = new LocalEvidenceStore(evidenceDir);
    let head = '';
    for (const name of ['logs/app/current', 'objects/pod']) {
      const stored = await store.put([`${name} bytes\n`]);
      const entry = await appendCustodyEntry(store, record.incidentId, {
        name,
        sha256: stored.sha256,
        bytes: stored.bytes,
        contentType: 'text/plain',
        truncated: false,
        incomplete: false,
        redacted: true,
        source: { kind: 'Pod', name: sampleTarget.pod, namespace: sampleTarget.namespace },
        collector: { name: 'test', version: '1' },
        collectedBy: { kubernetesUser: 'firebreak-admin', host: 'worker-0' },
      });
      head = entry.entrySha256;
    }
    return head;
  }

  function writeRecordWithHead(head: string, entries: number): string {
    const recordPath = path.join(root, 'record.json');
    const evidence = {
      manifestPath: 'custody.jsonl',
      artefacts: [],
      custodyHeadSha256: head,
      custodyEntryCount: entries,
    };
    writeFileSync(recordPath, JSON.stringify({ ...record, evidence }));
    return recordPath;
  }

  test('verifies the evidence against the head in the record', async () => {
    const evidenceDir = path.join(root, 'evidence');
    const head = await storeEvidence(evidenceDir);
    const recordPath = writeRecordWithHead(head, 2);

    expect(await report(record.incidentId, '--record', recordPath, '--evidence-dir', evidenceDir)).toBe(0);
    expect(stdout.join('\n')).toContain(
      `Verified against the head recorded at collection (\`${head}\` with 2 entries)`,
    );
  });

  test('reports a chain that differs from the head in the record', async () => {
    const evidenceDir = path.join(root, 'evidence');
    const head = await storeEvidence(evidenceDir);
    const recordPath = writeRecordWithHead(head, 3);

    expect(await report(record.incidentId, '--record', recordPath, '--evidence-dir', evidenceDir)).toBe(0);
    const text = stdout.join('\n');
    expect(text).toContain(
      'Verification FAILED when this report was written: (manifest): chain cut back: the head recorded in the incident record',
    );
    expect(text).not.toContain('Verified against the head');
  });

  test('fails when neither report nor record exists', async () => {
    expect(await report(record.incidentId, '--report-dir', path.join(root, 'none'))).toBe(1);
    expect(stderr.join('\n')).toContain(`no report for ${record.incidentId}`);
  });
});
