import { Command } from 'commander';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEvidenceActivities } from '../../../activities/evidence';
import { parseManifest } from '../../../activities/evidence/custody';
import { LocalEvidenceStore } from '../../../activities/evidence/store';
import { registerEvidenceCommands } from '../../../cli/commands/evidence';
import { kubeConfigFor } from '../../support/kube';
import { createLabWorkload, deleteNamespace, type LabWorkload } from '../../activities/evidence/lab-pod';

const incidentId = 'incident-00000000000000d1';

describe('firebreak evidence verify', () => {
  const kubeConfig = kubeConfigFor('admin');
  let workload: LabWorkload;
  let root: string;
  let store: LocalEvidenceStore;
  let custodyHead: string | undefined;
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
    stdout = [];
    stderr = [];
  });
  afterEach(() => {
    process.exitCode = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  async function verify(...extra: string[]): Promise<typeof process.exitCode> {
    const program = new Command('firebreak').exitOverride();
    registerEvidenceCommands(program, { out: (text) => stdout.push(text), err: (text) => stderr.push(text) });
    await program.parseAsync(['evidence', 'verify', incidentId, '--dir', root, ...extra], { from: 'user' });
    return process.exitCode;
  }

  const entryNamed = async (name: string) => {
    const line = parseManifest(await store.readManifest(incidentId)).find(
      (candidate) => 'entry' in candidate && candidate.entry.name === name,
    );
    if (!line || !('entry' in line)) throw new Error(`${name} is not in the manifest`);
    return line.entry;
  };

  test('passes on freshly captured evidence', async () => {
    expect(await verify('--head', custodyHead ?? '')).toBe(0);
    expect(stdout.join('\n')).toMatch(new RegExp(`^${incidentId}: verified \\d+ custody entries`));
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
