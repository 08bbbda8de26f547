import { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEvidenceActivities } from '../../../activities/evidence';
import { appendCustodyEntry, parseManifest } from '../../../activities/evidence/custody';
import { LocalEvidenceStore } from '../../../activities/evidence/store';
import { registerEvidenceCommands } from '../../../cli/commands/evidence';
import { kubeConfigFor } from '../../support/kube';
import { createLabWorkload, deleteNamespace, type LabWorkload } from '../../activities/evidence/lab-pod';
import { rewriteChain } from '../../activities/evidence/rewrite-chain';

const incidentId = 'incident-00000000000000d1';

describe('firebreak evidence verify', () => {
  const kubeConfig = kubeConfigFor('admin');
  let workload: LabWorkload;
  let root: string;
  let store: LocalEvidenceStore;
  let custodyHead: string | undefined;
  let custodyEntries: number | undefined;
  let reportDir: string;
  let stdout: string[];
  let stderr: string[];

  beforeAll(async () => {
    workload = await createLabWorkload(kubeConfig);
  });
  afterAll(() => deleteNamespace(kubeConfig, workload.namespace));

  beforeEach(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-verify-'));
    store = new LocalEvidenceStore(root);
    const activities = createEvidenceActivities({ kubeConfig, store, execPlanOptions: { fileChangeRoot: '.' } });
    const result = await activities.collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['objects', 'logs', 'exec', 'checkpoint'],
      limits: { execDeadlineMs: 10_000 },
    });
    custodyHead = result.custodyHeadSha256;
    custodyEntries = result.custodyEntryCount;
    reportDir = path.join(root, 'reports');
    stdout = [];
    stderr = [];
  });
  afterEach(() => {
    process.exitCode = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  async function verify(...extra: string[]): Promise<typeof process.exitCode> {
    const program = new Command('firebreak').exitOverride().configureOutput({ writeErr: (text) => stderr.push(text) });
    registerEvidenceCommands(program, { out: (text) => stdout.push(text), err: (text) => stderr.push(text) });
    const args = ['evidence', 'verify', incidentId, '--dir', root, '--report-dir', reportDir, ...extra];
    await program.parseAsync(args, { from: 'user' });
    return process.exitCode;
  }

  const entryNamed = async (name: string) => {
    const line = parseManifest(await store.readManifest(incidentId)).find(
      (candidate) => 'entry' in candidate && candidate.entry.name === name,
    );
    if (!line || !('entry' in line)) throw new Error(`${name} is not in the manifest`);
    return line.entry;
  };

  /** Writes the incident record as the report activity does, carrying the head recorded at collection. */
  function writeRecord(head: string | undefined, entries: number | undefined): void {
    mkdirSync(path.join(reportDir, incidentId), { recursive: true });
    const evidence = { manifestPath: store.manifestLocation(incidentId), artefacts: [] };
    const record = { incidentId, evidence: { ...evidence, custodyHeadSha256: head, custodyEntryCount: entries } };
    writeFileSync(path.join(reportDir, incidentId, 'record.json'), JSON.stringify(record));
  }

  test('passes on freshly captured evidence', async () => {
    expect(await verify('--head', custodyHead ?? '', '--entries', String(custodyEntries))).toBe(0);
    expect(stdout[0]).toMatch(new RegExp(`^${incidentId}: verified \\d+ custody entries`));
    expect(stdout[1]).toBe(`chain head ${custodyHead} matches the head recorded in --head`);
  });

  test('checks the chain against the head in the incident record', async () => {
    writeRecord(custodyHead, custodyEntries);

    expect(await verify()).toBe(0);
    expect(stdout[1]).toBe(
      `chain head ${custodyHead} matches the head recorded in ${path.join(reportDir, incidentId, 'record.json')}`,
    );
  });

  test('fails on a rewritten chain recorded in the incident record', async () => {
    writeRecord(custodyHead, custodyEntries);
    await rewriteChain(store, incidentId, 'exec/app/processes', 'PID CMD\n1 /app/server\n');
    rmSync(store.headLogLocation(incidentId));

    expect(await verify()).toBe(1);
    expect(stdout).toEqual([
      expect.stringContaining(
        `MISMATCH (manifest): chain rewritten: the head recorded in ${path.join(reportDir, incidentId, 'record.json')} is ${custodyHead} with ${custodyEntries} entries, but entry ${custodyEntries} of the manifest has hash`,
      ),
    ]);
  });

  test('fails on a truncated chain given --head and --entries', async () => {
    const manifestPath = store.manifestLocation(incidentId);
    const lines = readFileSync(manifestPath, 'utf8').trimEnd().split('\n');
    writeFileSync(manifestPath, `${lines.slice(0, -1).join('\n')}\n`);
    rmSync(store.headLogLocation(incidentId));

    expect(await verify('--head', custodyHead ?? '', '--entries', String(custodyEntries))).toBe(1);
    expect(stdout).toEqual([
      expect.stringMatching(
        new RegExp(
          `^MISMATCH \\(manifest\\): chain cut back: .* but the manifest has ${(custodyEntries ?? 0) - 1} entries`,
        ),
      ),
    ]);
  });

  test('fails on a rewritten chain through the head log', async () => {
    await rewriteChain(store, incidentId, 'exec/app/processes', 'PID CMD\n1 /app/server\n');

    expect(await verify()).toBe(1);
    expect(stdout[0]).toMatch(/^MISMATCH \(head log\) \(head log line 1\): chain rewritten/);
    expect(stdout).toContainEqual(
      expect.stringMatching(
        /^MISMATCH exec\/app\/processes \(manifest line \d+\): custody entry \d+ may have been rewritten/,
      ),
    );
  });

  test('fails and names an entry appended after the logged head', async () => {
    const { name: _name, ...copied } = await entryNamed('objects/pod');
    const { entrySha256: _hash, prevSha256: _prev, seq: _seq, incidentId: _id, collectedAt: _at, ...draft } = copied;
    await appendCustodyEntry(store, incidentId, { ...draft, name: 'logs/app/planted' });

    expect(await verify()).toBe(1);
    const position = (custodyEntries ?? 0) + 1;
    const added = `custody entry ${position} was added after the last logged head`;
    expect(stdout).toEqual([
      expect.stringMatching(
        new RegExp(
          `^MISMATCH logs/app/planted \\(manifest line ${position}\\): ${added}: .* has ${custodyEntries} entries, but the manifest has 1 more$`,
        ),
      ),
    ]);
  });

  test('exits 2 on an incident record that is a FIFO', async () => {
    mkdirSync(path.join(reportDir, incidentId), { recursive: true });
    execFileSync('mkfifo', [path.join(reportDir, incidentId, 'record.json')]);

    expect(await verify()).toBe(2);
    expect(stderr.join('\n')).toContain('record.json is not a regular file');
  }, 15_000);

  test('exits 2 on an incident record linked to /dev/zero', async () => {
    mkdirSync(path.join(reportDir, incidentId), { recursive: true });
    symlinkSync('/dev/zero', path.join(reportDir, incidentId, 'record.json'));

    expect(await verify()).toBe(2);
    expect(stderr.join('\n')).toContain('record.json is not a regular file');
  }, 15_000);

  test('exits 2 on an incident record over the size limit', async () => {
    mkdirSync(path.join(reportDir, incidentId), { recursive: true });
    execFileSync('truncate', ['-s', String(9 * 1024 * 1024), path.join(reportDir, incidentId, 'record.json')]);

    expect(await verify()).toBe(2);
    expect(stderr.join('\n')).toMatch(/record\.json has 9437184 bytes, more than the maximum of 8388608/);
  });

  test('fails and names an object file that is a FIFO', async () => {
    const file = store.objectPath((await entryNamed('objects/pod')).sha256);
    rmSync(file);
    execFileSync('mkfifo', [file]);

    expect(await verify()).toBe(1);
    expect(stdout).toEqual([
      expect.stringMatching(
        /^MISMATCH objects\/pod \(manifest line \d+\): stored object is not trustworthy: .* is a FIFO/,
      ),
    ]);
  }, 15_000);

  test('warns when no head was recorded outside the store', async () => {
    expect(await verify()).toBe(0);
    expect(stdout[1]).toMatch(/^WARNING: chain head [0-9a-f]{64} was checked against the store's head log only/);
  });

  test('rejects --head that is not a SHA-256', async () => {
    await expect(verify('--head', 'abc')).rejects.toThrow(/expected 64 lowercase hex digits/);
  });

  test('fails and names the artefact after one byte flips', async () => {
    const entry = await entryNamed('objects/pod');
    const file = store.objectPath(entry.sha256);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
    chmodSync(file, 0o644);
    writeFileSync(file, bytes);

    expect(await verify()).toBe(1);
    expect(stdout).toEqual([
      expect.stringMatching(/^MISMATCH objects\/pod \(manifest line \d+\): stored bytes changed/),
    ]);
    expect(stderr.join('\n')).toContain('verification failed with 1 problem(s)');
  });

  test('fails and names the artefact after a custody entry is edited', async () => {
    const entry = await entryNamed('exec/app/processes');
    const manifestPath = store.manifestLocation(incidentId);
    const lines = readFileSync(manifestPath, 'utf8').split('\n');
    const index = lines.findIndex((line) => line.includes(`"entrySha256":"${entry.entrySha256}"`));
    lines[index] = (lines[index] ?? '').replace(
      `"collectedAt":"${entry.collectedAt}"`,
      '"collectedAt":"2020-01-01T00:00:00.000Z"',
    );
    writeFileSync(manifestPath, lines.join('\n'));

    expect(await verify()).toBe(1);
    expect(
      stdout.some(
        (line) => line.startsWith('MISMATCH exec/app/processes') && line.includes('custody entry was altered'),
      ),
    ).toBe(true);
  });

  test('exits 2 for an invalid incident id', async () => {
    const program = new Command('firebreak').exitOverride();
    registerEvidenceCommands(program, { out: (text) => stdout.push(text), err: (text) => stderr.push(text) });
    await program.parseAsync(['evidence', 'verify', '../etc', '--dir', root], { from: 'user' });
    expect(process.exitCode).toBe(2);
    expect(stderr.join('\n')).toContain('invalid incident id');
  });
});
