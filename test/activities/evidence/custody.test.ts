import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recordChainHead } from '../../../activities/evidence/anchor';
import {
  appendCustodyEntry,
  canonicalJson,
  GENESIS_SHA256,
  parseManifest,
  type CustodyDraft,
} from '../../../activities/evidence/custody';
import { LocalEvidenceStore } from '../../../activities/evidence/store';
import { verifyIncidentEvidence } from '../../../activities/evidence/verify';
import { rewriteChain as rewriteProcessList } from './rewrite-chain';

const incidentId = 'incident-0123456789abcdef';

async function storeArtefact(store: LocalEvidenceStore, name: string, content: string): Promise<CustodyDraft> {
  const stored = await store.put([content]);
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
  return draft;
}

describe('custody chain', () => {
  let root: string;
  let store: LocalEvidenceStore;
  beforeEach(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-custody-'));
    store = new LocalEvidenceStore(root);
    await storeArtefact(store, 'logs/app/current', 'line one\n');
    await storeArtefact(store, 'objects/pod', '{"kind":"Pod"}\n');
    await storeArtefact(store, 'exec/app/processes', 'PID CMD\n1 /app/server\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const manifestFile = () => store.manifestLocation(incidentId);

  test('entries link to the entry before them', async () => {
    const lines = parseManifest(await store.readManifest(incidentId));
    const entries = lines.flatMap((line) => ('entry' in line ? [line.entry] : []));
    expect(entries).toHaveLength(3);
    expect(entries[0]?.prevSha256).toBe(GENESIS_SHA256);
    expect(entries[1]?.prevSha256).toBe(entries[0]?.entrySha256);
    expect(entries[2]?.prevSha256).toBe(entries[1]?.entrySha256);
    expect(entries.map((entry) => entry.seq)).toEqual([0, 1, 2]);
  });

  test('entries record source, collector, identity and time', async () => {
    const [line] = parseManifest(await store.readManifest(incidentId));
    if (!line || !('entry' in line)) throw new Error('first manifest line is not a valid entry');
    expect(line.entry.source).toEqual({
      kind: 'Pod',
      name: 'checkout-7d9f8b6c5-x2k4q',
      namespace: 'shop',
      uid: 'uid-1',
      resourceVersion: '42',
    });
    expect(line.entry.collector).toEqual({ name: 'test-collector', version: '1' });
    expect(line.entry.collectedBy.kubernetesUser).toBe('system:serviceaccount:firebreak:worker');
    expect(Number.isNaN(Date.parse(line.entry.collectedAt))).toBe(false);
  });

  test('verify passes on an untouched store', async () => {
    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.entries).toBe(3);
  });

  test('verify names the artefact whose stored byte flipped', async () => {
    const lines = parseManifest(await store.readManifest(incidentId));
    const target = lines[1];
    if (!target || !('entry' in target)) throw new Error('second manifest line is not a valid entry');
    const file = store.objectPath(target.entry.sha256);
    const bytes = readFileSync(file);
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    chmodSync(file, 0o644);
    writeFileSync(file, bytes);

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.ok).toBe(false);
    expect(result.problems.map((problem) => problem.artefact)).toEqual(['objects/pod']);
    expect(result.problems[0]?.problem).toMatch(/stored bytes changed/);
  });

  test('verify names the artefact whose custody entry was edited', async () => {
    const text = readFileSync(manifestFile(), 'utf8');
    writeFileSync(manifestFile(), text.replace('"bytes":9,', '"bytes":8,'));

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.ok).toBe(false);
    const names = new Set(result.problems.map((problem) => problem.artefact));
    expect(names.has('logs/app/current')).toBe(true);
    expect(result.problems.some((problem) => /custody entry was altered/.test(problem.problem))).toBe(true);
  });

  test('verify detects an edit of the last entry', async () => {
    const lines = readFileSync(manifestFile(), 'utf8').trimEnd().split('\n');
    lines[2] = (lines[2] ?? '').replace('"host":"worker-0"', '"host":"worker-9"');
    writeFileSync(manifestFile(), `${lines.join('\n')}\n`);

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.problems.map((problem) => problem.artefact)).toEqual(['exec/app/processes']);
  });

  test('verify detects a removed entry', async () => {
    const lines = readFileSync(manifestFile(), 'utf8').trimEnd().split('\n');
    writeFileSync(manifestFile(), `${[lines[0], lines[2]].join('\n')}\n`);

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.ok).toBe(false);
    expect(result.problems.every((problem) => problem.artefact === 'exec/app/processes')).toBe(true);
    expect(result.problems.some((problem) => /chain is broken/.test(problem.problem))).toBe(true);
  });

  const rewriteChain = () =>
    rewriteProcessList(store, incidentId, 'exec/app/processes', 'PID CMD\n1 /app/server\n2 sleep 60\n');

  test('verify detects a rewritten chain against the recorded head', async () => {
    const recorded = await verifyIncidentEvidence(store, incidentId);
    await rewriteChain();
    const anchor = { headSha256: recorded.headSha256 ?? '', entryCount: 3, source: 'the incident record' };

    expect((await verifyIncidentEvidence(store, incidentId)).ok).toBe(true);
    const result = await verifyIncidentEvidence(store, incidentId, { anchors: [anchor] });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      {
        artefact: '(manifest)',
        problem: expect.stringContaining(
          `chain rewritten: the head recorded in the incident record is ${recorded.headSha256} with 3 entries, but entry 3 of the manifest has hash`,
        ),
      },
    ]);
  });

  test('verify detects a truncated chain against the recorded entry count', async () => {
    const recorded = await verifyIncidentEvidence(store, incidentId);
    const lines = readFileSync(manifestFile(), 'utf8').trimEnd().split('\n');
    writeFileSync(manifestFile(), `${lines.slice(0, 2).join('\n')}\n`);
    const anchor = { headSha256: recorded.headSha256 ?? '', entryCount: 3, source: '--head' };

    const result = await verifyIncidentEvidence(store, incidentId, { anchors: [anchor] });
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.problem).toMatch(/^chain cut back: .* with 3 entries, but the manifest has 2 entries/);
  });

  test('verify detects entries appended after the recorded head', async () => {
    const recorded = await verifyIncidentEvidence(store, incidentId);
    await storeArtefact(store, 'logs/app/forged', 'planted later\n');
    const anchor = { headSha256: recorded.headSha256 ?? '', entryCount: 3, source: '--head' };

    const result = await verifyIncidentEvidence(store, incidentId, { anchors: [anchor] });
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.problem).toMatch(
      /^entries added after the recorded head: .*, but the manifest has 4 entries/,
    );
  });

  test('verify checks the chain against every head log line', async () => {
    const first = await recordChainHead(store, incidentId);
    await storeArtefact(store, 'logs/app/previous', 'second run\n');
    await recordChainHead(store, incidentId);
    expect(first).toEqual({ headSha256: expect.stringMatching(/^[0-9a-f]{64}$/), entryCount: 3 });
    expect((await verifyIncidentEvidence(store, incidentId)).headLogLines).toBe(2);

    await rewriteChain();
    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.ok).toBe(false);
    expect(result.problems.map((problem) => [problem.artefact, problem.lineNumber])).toEqual([
      ['(head log)', 1],
      ['(head log)', 2],
      ['logs/app/current', 1],
      ['objects/pod', 2],
      ['exec/app/processes', 3],
      ['logs/app/previous', 4],
    ]);
    expect(result.problems[0]?.problem).toMatch(
      new RegExp(`^chain rewritten: the head logged at .* is ${first.headSha256} with 3 entries`),
    );
  });

  test('verify names a chain cut back below a head log line', async () => {
    await recordChainHead(store, incidentId);
    const lines = readFileSync(manifestFile(), 'utf8').trimEnd().split('\n');
    writeFileSync(manifestFile(), `${lines.slice(0, 1).join('\n')}\n`);

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.problems).toEqual([
      {
        artefact: '(head log)',
        lineNumber: 1,
        problem: expect.stringMatching(
          /^chain cut back: the head logged at .* with 3 entries, but the manifest has 1 entries$/,
        ),
      },
    ]);
  });

  test('verify without an entry count finds a rewritten head', async () => {
    const recorded = await verifyIncidentEvidence(store, incidentId);
    await rewriteChain();
    const anchor = { headSha256: recorded.headSha256 ?? '', source: '--head' };

    const result = await verifyIncidentEvidence(store, incidentId, { anchors: [anchor] });
    expect(result.problems).toEqual([
      {
        artefact: '(manifest)',
        problem: expect.stringMatching(/^chain rewritten: .*which no entry of the manifest carries/),
      },
    ]);
  });

  test('verify without an entry count names entries added later', async () => {
    const recorded = await verifyIncidentEvidence(store, incidentId);
    await storeArtefact(store, 'logs/app/forged', 'planted later\n');
    const anchor = { headSha256: recorded.headSha256 ?? '', source: '--head' };

    const result = await verifyIncidentEvidence(store, incidentId, { anchors: [anchor] });
    expect(result.problems).toEqual([
      {
        artefact: '(manifest)',
        problem: expect.stringMatching(
          /^entries added after the recorded head: .*, entry 3, and the manifest has 4 entries$/,
        ),
      },
    ]);
  });

  test('verify passes when the chain ends at the recorded head', async () => {
    const recorded = await verifyIncidentEvidence(store, incidentId);
    const anchor = { headSha256: recorded.headSha256 ?? '', entryCount: 3, source: '--head' };

    const result = await verifyIncidentEvidence(store, incidentId, { anchors: [anchor] });
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });

  test('recordChainHead skips an empty chain', async () => {
    const summary = await recordChainHead(store, 'incident-ffffffffffffffff');
    expect(summary).toEqual({ entryCount: 0 });
    expect(await store.readHeadLog('incident-ffffffffffffffff')).toBe('');
  });

  test('verify treats a symlinked object as a mismatch', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'firebreak-outside-'));
    try {
      const [line] = parseManifest(await store.readManifest(incidentId));
      if (!line || !('entry' in line)) throw new Error('first manifest line is not a valid entry');
      const file = store.objectPath(line.entry.sha256);
      writeFileSync(path.join(outside, 'copy'), readFileSync(file));
      rmSync(file);
      symlinkSync(path.join(outside, 'copy'), file);

      const result = await verifyIncidentEvidence(store, incidentId);
      expect(result.ok).toBe(false);
      expect(result.problems).toEqual([
        expect.objectContaining({ artefact: 'logs/app/current', problem: expect.stringMatching(/symbolic link/) }),
      ]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('verify reports a missing object by name', async () => {
    const lines = parseManifest(await store.readManifest(incidentId));
    const target = lines[2];
    if (!target || !('entry' in target)) throw new Error('third manifest line is not a valid entry');
    rmSync(store.objectPath(target.entry.sha256));

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.problems).toEqual([
      expect.objectContaining({ artefact: 'exec/app/processes', problem: expect.stringMatching(/missing/) }),
    ]);
  });

  test('verify rejects a manifest sha256 that names another path', async () => {
    const text = readFileSync(manifestFile(), 'utf8');
    const lines = parseManifest(text);
    const target = lines[0];
    if (!target || !('entry' in target)) throw new Error('first manifest line is not a valid entry');
    writeFileSync(manifestFile(), text.replace(target.entry.sha256, '../../../../etc/passwd'));

    const result = await verifyIncidentEvidence(store, incidentId);
    const problem = result.problems.find((candidate) => /could not be read/.test(candidate.problem));
    expect(problem?.artefact).toBe('logs/app/current');
  });

  test('verify of an unknown incident fails', async () => {
    const result = await verifyIncidentEvidence(store, 'incident-ffffffffffffffff');
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.artefact).toBe('(manifest)');
  });

  test('canonicalJson sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[{"y":2,"z":1}]},"b":1}');
  });
});
