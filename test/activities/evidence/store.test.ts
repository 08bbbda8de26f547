import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertSha256, hashStoredObject, LocalEvidenceStore } from '../../../activities/evidence/store';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

describe('LocalEvidenceStore', () => {
  let root: string;
  let store: LocalEvidenceStore;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-store-'));
    store = new LocalEvidenceStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('put stores bytes at their SHA-256 address', async () => {
    const stored = await store.put(['hello ', Buffer.from('world')]);
    expect(stored.sha256).toBe(sha256('hello world'));
    expect(stored.bytes).toBe(11);
    expect(stored.truncated).toBe(false);
    const file = path.join(root, 'objects', 'sha256', stored.sha256.slice(0, 2), stored.sha256.slice(2));
    expect(readFileSync(file, 'utf8')).toBe('hello world');
  });

  test('put accepts an identical existing object', async () => {
    const first = await store.put(['same bytes']);
    const second = await store.put(['same bytes']);
    expect(second).toEqual(first);
  });

  test('put fails on an existing object with other bytes', async () => {
    const first = await store.put(['same bytes']);
    const file = store.objectPath(first.sha256);
    chmodSync(file, 0o644);
    writeFileSync(file, 'tampered');

    await expect(store.put(['same bytes'])).rejects.toMatchObject({
      type: 'EvidenceStoreCorrupt',
      nonRetryable: true,
      message: expect.stringContaining(`is corrupt: its bytes hash to ${sha256('tampered')}`),
    });
    expect(readFileSync(file, 'utf8')).toBe('tampered');
  });

  test('put fails on bytes planted at an address before the first write', async () => {
    const real = 'evidence that an attacker wants gone\n';
    const address = store.objectPath(sha256(real));
    mkdirSync(path.dirname(address), { recursive: true });
    writeFileSync(address, 'innocent\n');

    await expect(store.put([real])).rejects.toMatchObject({ type: 'EvidenceStoreCorrupt' });
    expect(readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });

  test('put refuses a symlinked fan-out directory', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'firebreak-outside-'));
    try {
      const content = 'object written through a link\n';
      const digest = sha256(content);
      mkdirSync(path.join(root, 'objects', 'sha256'), { recursive: true });
      symlinkSync(outside, path.join(root, 'objects', 'sha256', digest.slice(0, 2)));

      await expect(store.put([content])).rejects.toMatchObject({
        type: 'EvidenceStoreCorrupt',
        message: expect.stringContaining('is a symbolic link'),
      });
      expect(readdirSync(outside)).toEqual([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('put fails on a symlinked object at its address', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'firebreak-outside-'));
    try {
      const content = 'linked object\n';
      const copy = path.join(outside, 'copy');
      writeFileSync(copy, content);
      const address = store.objectPath(sha256(content));
      mkdirSync(path.dirname(address), { recursive: true });
      symlinkSync(copy, address);

      await expect(store.put([content])).rejects.toMatchObject({ type: 'EvidenceStoreCorrupt' });
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('read fails on a symlinked object', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'firebreak-outside-'));
    try {
      const stored = await store.put(['read through a link\n']);
      const file = store.objectPath(stored.sha256);
      const copy = path.join(outside, 'copy');
      writeFileSync(copy, readFileSync(file));
      rmSync(file);
      symlinkSync(copy, file);

      await expect(hashStoredObject(store, stored.sha256)).rejects.toMatchObject({ type: 'EvidenceStoreCorrupt' });
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('appendManifest refuses a symlinked incident directory', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'firebreak-outside-'));
    try {
      mkdirSync(path.join(root, 'incidents'), { recursive: true });
      symlinkSync(outside, path.join(root, 'incidents', 'incident-abc'));

      await expect(store.appendManifest('incident-abc', () => 'line')).rejects.toMatchObject({
        type: 'EvidenceStoreCorrupt',
      });
      expect(readdirSync(outside)).toEqual([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('readManifest refuses a symlinked manifest', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'firebreak-outside-'));
    try {
      writeFileSync(path.join(outside, 'custody.jsonl'), '{"forged":true}\n');
      mkdirSync(path.join(root, 'incidents', 'incident-abc'), { recursive: true });
      symlinkSync(path.join(outside, 'custody.jsonl'), store.manifestLocation('incident-abc'));

      await expect(store.readManifest('incident-abc')).rejects.toMatchObject({ type: 'EvidenceStoreCorrupt' });
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('put makes stored objects read-only', async () => {
    const stored = await store.put(['read only']);
    expect(statSync(store.objectPath(stored.sha256)).mode & 0o222).toBe(0);
  });

  test('put truncates at maxBytes and marks it', async () => {
    const stored = await store.put(['0123456789', 'abcdef'], { maxBytes: 12 });
    expect(stored.bytes).toBe(12);
    expect(stored.truncated).toBe(true);
    expect(stored.sha256).toBe(sha256('0123456789ab'));
  });

  test('put of exactly maxBytes is not truncated', async () => {
    const stored = await store.put(['0123456789'], { maxBytes: 10 });
    expect(stored.truncated).toBe(false);
    expect(stored.bytes).toBe(10);
  });

  test('put stops reading a source past the limit', async () => {
    let produced = 0;
    async function* endless() {
      for (;;) {
        produced += 1;
        yield Buffer.alloc(1024, 1);
      }
    }
    const stored = await store.put(endless(), { maxBytes: 4096 });
    expect(stored.truncated).toBe(true);
    expect(produced).toBeLessThanOrEqual(5);
  });

  test('put leaves no temporary files behind', async () => {
    await store.put(['a']);
    await store.put(['a']);
    expect(readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });

  test('hashStoredObject reports changed bytes', async () => {
    const stored = await store.put(['original']);
    const file = store.objectPath(stored.sha256);
    chmodSync(file, 0o644);
    writeFileSync(file, 'originaL');
    const actual = await hashStoredObject(store, stored.sha256);
    expect(actual.sha256).toBe(sha256('originaL'));
  });

  test('objectPath rejects a value that is not a SHA-256', () => {
    expect(() => store.objectPath('../../etc/passwd')).toThrow(/invalid SHA-256/);
    expect(() => assertSha256('A'.repeat(64))).toThrow(/lowercase hex/);
  });

  test('manifestLocation rejects an incident id with a path', () => {
    expect(() => store.manifestLocation('../incident-x')).toThrow(/invalid incident id/);
  });

  test('appendManifest serialises concurrent writers', async () => {
    const writes = Array.from({ length: 20 }, (_, index) =>
      store.appendManifest('incident-abc', (current) => `${index}:${current.split('\n').filter(Boolean).length}`),
    );
    await Promise.all(writes);
    const lines = (await store.readManifest('incident-abc')).trim().split('\n');
    const counts = lines.map((line) => Number(line.split(':')[1])).sort((a, b) => a - b);
    expect(counts).toEqual(Array.from({ length: 20 }, (_, index) => index));
  });

  test('appendHeadLog writes one line per call beside the manifest', async () => {
    await store.appendManifest('incident-abc', () => 'first');
    await store.appendHeadLog('incident-abc', (manifest) => `after ${manifest.trim().split('\n').length}`);
    await store.appendManifest('incident-abc', () => 'second');
    await store.appendHeadLog('incident-abc', (manifest) => `after ${manifest.trim().split('\n').length}`);

    expect(store.headLogLocation('incident-abc')).toBe(path.join(root, 'anchors', 'incident-abc.log'));
    expect(await store.readHeadLog('incident-abc')).toBe('after 1\nafter 2\n');
  });

  describe('with a root that does not exist yet', () => {
    const missingRoot = () => path.join(root, 'not', 'yet', 'evidence');
    const modeOf = (directory: string) => statSync(directory).mode & 0o777;
    const firstWrites: [string, (fresh: LocalEvidenceStore) => Promise<unknown>][] = [
      ['put', (fresh) => fresh.put(['first artefact'])],
      ['appendManifest', (fresh) => fresh.appendManifest('incident-abc', () => 'first entry')],
      ['appendHeadLog', (fresh) => fresh.appendHeadLog('incident-abc', () => 'first head')],
    ];

    test.each(firstWrites)('%s creates the root with mode 0700', async (_name, write) => {
      const fresh = new LocalEvidenceStore(missingRoot());

      await write(fresh);

      expect(modeOf(missingRoot())).toBe(0o700);
      expect(modeOf(path.join(root, 'not'))).toBe(0o700);
      for (const entry of readdirSync(missingRoot())) expect(modeOf(path.join(missingRoot(), entry))).toBe(0o700);
    });

    test('reads return nothing before the first write', async () => {
      const fresh = new LocalEvidenceStore(missingRoot());

      expect(await fresh.readManifest('incident-abc')).toBe('');
      expect(await fresh.readHeadLog('incident-abc')).toBe('');
      expect(await fresh.size(sha256('absent'))).toBeUndefined();
    });

    test('an existing root keeps its mode', async () => {
      chmodSync(root, 0o750);

      await store.put(['kept mode']);

      expect(modeOf(root)).toBe(0o750);
      expect(modeOf(path.join(root, 'objects'))).toBe(0o700);
    });
  });
});
