import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recordChainHead } from '../../../activities/evidence/anchor';
import { appendCustodyEntry, parseManifest, type CustodyDraft } from '../../../activities/evidence/custody';
import { LocalEvidenceStore } from '../../../activities/evidence/store';
import { hashFile, readRegularText } from '../../../activities/evidence/store-fs';
import { verifyIncidentEvidence } from '../../../activities/evidence/verify';
import { rewriteChain } from './rewrite-chain';

const incidentId = 'incident-0123456789abcd0e';
const names = ['logs/app/current', 'objects/pod', 'exec/app/processes', 'exec/app/connections'];

async function storeArtefact(store: LocalEvidenceStore, name: string): Promise<void> {
  const stored = await store.put([`content of ${name}\n`]);
  const draft: CustodyDraft = {
    name,
    sha256: stored.sha256,
    bytes: stored.bytes,
    contentType: 'text/plain',
    truncated: false,
    incomplete: false,
    redacted: true,
    source: { kind: 'Pod', name: 'checkout-7d9f8b6c5-x2k4q', namespace: 'shop', uid: 'uid-1', resourceVersion: '42' },
    collector: { name: 'test-collector', version: '1' },
    collectedBy: { kubernetesUser: 'system:serviceaccount:firebreak:worker', host: 'worker-0' },
  };
  await appendCustodyEntry(store, incidentId, draft);
}

/** Replaces `filePath` with a FIFO that no process writes to, so a blocking open of it never returns. */
function replaceWithFifo(filePath: string): void {
  rmSync(filePath, { force: true });
  execFileSync('mkfifo', [filePath]);
}

describe('verifyIncidentEvidence', () => {
  let root: string;
  let store: LocalEvidenceStore;

  beforeEach(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-verify-'));
    store = new LocalEvidenceStore(root);
    for (const name of names.slice(0, 3)) await storeArtefact(store, name);
    await recordChainHead(store, incidentId);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const entrySha256Of = async (name: string): Promise<string> => {
    const line = parseManifest(await store.readManifest(incidentId)).find(
      (candidate) => 'entry' in candidate && candidate.entry.name === name,
    );
    if (!line || !('entry' in line)) throw new Error(`${name} is not in the manifest`);
    return line.entry.sha256;
  };

  test('names an object replaced by a FIFO', async () => {
    const file = store.objectPath(await entrySha256Of('objects/pod'));
    replaceWithFifo(file);

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      expect.objectContaining({
        artefact: 'objects/pod',
        problem: expect.stringMatching(/is a FIFO, not a regular file/),
      }),
    ]);
  }, 10_000);

  test('reports a manifest replaced by a FIFO', async () => {
    replaceWithFifo(store.manifestLocation(incidentId));

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toEqual({
      artefact: '(manifest)',
      problem: expect.stringMatching(/custody\.jsonl is a FIFO, not a regular file/),
    });
  }, 10_000);

  test('reports a head log replaced by a FIFO', async () => {
    replaceWithFifo(store.headLogLocation(incidentId));

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      { artefact: '(head log)', problem: expect.stringMatching(/\.log is a FIFO, not a regular file/) },
    ]);
  }, 10_000);

  test('names the first entry added after the last logged head', async () => {
    await storeArtefact(store, names[3] ?? '');
    await storeArtefact(store, 'logs/app/forged');

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      {
        artefact: 'exec/app/connections',
        lineNumber: 4,
        problem: expect.stringMatching(/^custody entry 4 was added after the last logged head: .* has 2 more$/),
      },
    ]);
  });

  test('passes entries that a later head log line covers', async () => {
    await storeArtefact(store, names[3] ?? '');
    await recordChainHead(store, incidentId);

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });

  test('names the rewritten entry when later hashes were recomputed', async () => {
    await storeArtefact(store, names[3] ?? '');
    await recordChainHead(store, incidentId);
    await rewriteChain(store, incidentId, 'exec/app/connections', 'forged\n');

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.ok).toBe(false);
    expect(result.problems.map((problem) => [problem.artefact, problem.lineNumber])).toEqual([
      ['(head log)', 2],
      ['exec/app/connections', 4],
    ]);
    expect(result.problems[1]?.problem).toMatch(/^custody entry 4 may have been rewritten: .* entries 4 to 4/);
  });

  test('names every entry after the last matching head', async () => {
    await storeArtefact(store, names[3] ?? '');
    await recordChainHead(store, incidentId);
    await rewriteChain(store, incidentId, 'objects/pod', 'forged\n');

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.problems.map((problem) => problem.artefact)).toEqual(['(head log)', '(head log)', ...names]);
  });
});

describe('store-fs reads', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-store-fs-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('hashFile rejects a FIFO without waiting for a writer', async () => {
    const fifo = path.join(root, 'object');
    replaceWithFifo(fifo);

    await expect(hashFile(fifo)).rejects.toThrow(`${fifo} is a FIFO, not a regular file`);
  }, 10_000);

  test('readRegularText rejects a character device', async () => {
    await expect(readRegularText('/dev/zero', 1024)).rejects.toThrow('/dev/zero is a character device');
  });

  test('readRegularText rejects a file over its maximum', async () => {
    const file = path.join(root, 'record.json');
    execFileSync('truncate', ['-s', '2048', file]);

    await expect(readRegularText(file, 1024)).rejects.toThrow(`${file} has 2048 bytes, more than the maximum of 1024`);
  });
});
