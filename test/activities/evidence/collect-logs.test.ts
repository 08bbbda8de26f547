import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEvidenceActivities } from '../../../activities/evidence';
import { parseManifest, type CustodyEntry } from '../../../activities/evidence/custody';
import { LocalEvidenceStore } from '../../../activities/evidence/store';
import { testEnv } from '../../support/env';
import { kubeConfigFor } from '../../support/kube';
import { createLabWorkload, deleteNamespace, type LabWorkload } from './lab-pod';

// kwok serves log files in the CRI format: time, stream, tag (F for a full line), message.
const criLine = (message: string | Buffer) =>
  Buffer.concat([Buffer.from('2024-12-04T12:00:00.000000000Z stdout F '), Buffer.from(message), Buffer.from('\n')]);
const invalidBytes = Buffer.from([0xff, 0xfe, 0xc3, 0x28]);

const secrets = ['hunter2-env', 'hunter2-flag', 'hunter2-url', 'upstream-5ec2et', 'sk_live_51Habcdef'];

describe('collectEvidence logs', () => {
  const kubeConfig = kubeConfigFor('admin');
  let workload: LabWorkload;
  let root: string;
  let store: LocalEvidenceStore;

  beforeAll(async () => {
    writeFileSync(
      testEnv().kube.logFiles.current,
      Buffer.concat([
        criLine('DB_PASS=hunter2-env mysql -uroot -phunter2-flag url=postgres://app:hunter2-url@db/shop'),
        criLine('resolved UPSTREAM_ID=upstream-5ec2et from the environment'),
        criLine('charging with sk_live_51Habcdef'),
        criLine(Buffer.concat([Buffer.from('binary:'), invalidBytes])),
        criLine('\u001b]0;owned\u0007\u001b[2J cleared the terminal'),
      ]),
    );
    writeFileSync(testEnv().kube.logFiles.previous, criLine('previous container exited'));
    workload = await createLabWorkload(kubeConfig);
  });
  afterAll(() => deleteNamespace(kubeConfig, workload.namespace));

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-logs-'));
    store = new LocalEvidenceStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const entryNamed = async (incidentId: string, name: string): Promise<CustodyEntry> => {
    const line = parseManifest(await store.readManifest(incidentId)).find(
      (candidate) => 'entry' in candidate && candidate.entry.name === name,
    );
    if (!line || !('entry' in line)) throw new Error(`${name} is not in the manifest`);
    return line.entry;
  };
  const bytesOf = (entry: CustodyEntry) => readFileSync(store.objectPath(entry.sha256));
  const collect = (incidentId: string, keepSecretsInRaw: boolean) =>
    createEvidenceActivities({ kubeConfig, store }).collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['logs'],
      limits: {},
      keepSecretsInRaw,
    });

  test('redacts common secrets and variables set from Secrets', async () => {
    const incidentId = 'incident-00000000000000f1';
    await collect(incidentId, false);

    const log = bytesOf(await entryNamed(incidentId, 'logs/app/current')).toString('utf8');
    for (const secret of secrets) expect(log).not.toContain(secret);
    expect(log).toContain('UPSTREAM_ID=[REDACTED] from the environment');
    expect(log).toContain('mysql -uroot -p[REDACTED]');
  });

  test('marks the default copy lossy and flags control characters', async () => {
    const incidentId = 'incident-00000000000000f2';
    await collect(incidentId, false);

    const entry = await entryNamed(incidentId, 'logs/app/current');
    expect(entry.redacted).toBe(true);
    expect(entry.lossy).toBe(true);
    expect(entry.controlCharacters).toBe(true);
    expect(bytesOf(entry).includes(Buffer.from('\uFFFD', 'utf8'))).toBe(true);
    const previous = await entryNamed(incidentId, 'logs/app/previous');
    expect(previous.lossy).toBeUndefined();
    expect(previous.controlCharacters).toBeUndefined();
  });

  test('keeps raw bytes and marks the copy lossy', async () => {
    const incidentId = 'incident-00000000000000f3';
    await collect(incidentId, true);

    const raw = await entryNamed(incidentId, 'logs/app/current');
    expect(bytesOf(raw).includes(invalidBytes)).toBe(true);
    expect(bytesOf(raw).includes(Buffer.from('\u001b]0;owned'))).toBe(true);
    expect(raw.lossy).toBeUndefined();
    expect(raw.controlCharacters).toBe(true);

    const copy = await entryNamed(incidentId, 'logs/app/current.redacted');
    expect(copy.lossy).toBe(true);
    expect(copy.controlCharacters).toBe(true);
    const text = bytesOf(copy).toString('utf8');
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
