import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEvidenceActivities, type EvidenceDeps } from '../../../activities/evidence';
import { defaultExecPlans } from '../../../activities/evidence/collect-exec';
import { parseManifest, type CustodyEntry } from '../../../activities/evidence/custody';
import { LocalEvidenceStore } from '../../../activities/evidence/store';
import { verifyIncidentEvidence } from '../../../activities/evidence/verify';
import { testEnv } from '../../support/env';
import { kubeConfigFor } from '../../support/kube';
import { createLabWorkload, deleteNamespace, type LabWorkload } from './lab-pod';

const jwt =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6ImV4YW1wbGUifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2hvcDpkZWZhdWx0In0.c2lnbmF0dXJlLWV4YW1wbGU';
// kwok serves log files in the CRI format: time, stream, tag (F for a full line), message.
const criLine = (message: string) => `2024-12-04T12:00:00.000000000Z stdout F ${message}\n`;
const logLine = (index: number) =>
  criLine(`level=info msg="request served" path=/api/cart id=${String(index).padStart(8, '0')}`);

describe('collectEvidence', () => {
  const kubeConfig = kubeConfigFor('admin');
  let workload: LabWorkload;
  let root: string;
  let store: LocalEvidenceStore;

  beforeAll(async () => {
    const env = testEnv();
    const current = Array.from({ length: 200 }, (_, index) => logLine(index)).join('');
    writeFileSync(env.kube.logFiles.current, current + criLine(`auth header Authorization: Bearer ${jwt}`));
    writeFileSync(env.kube.logFiles.previous, criLine('previous container crashed: out of memory'));
    workload = await createLabWorkload(kubeConfig);
  });
  afterAll(() => deleteNamespace(kubeConfig, workload.namespace));

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-evidence-'));
    store = new LocalEvidenceStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const activities = (deps: Partial<EvidenceDeps> = {}) =>
    createEvidenceActivities({ kubeConfig, store, execPlanOptions: { fileChangeRoot: '.' }, ...deps });
  const entriesOf = async (incidentId: string): Promise<CustodyEntry[]> =>
    parseManifest(await store.readManifest(incidentId)).flatMap((line) => ('entry' in line ? [line.entry] : []));
  const readArtefact = async (incidentId: string, name: string): Promise<string> => {
    const entry = (await entriesOf(incidentId)).find((candidate) => candidate.name === name);
    if (!entry) throw new Error(`artefact ${name} is not in the manifest`);
    return readFileSync(store.objectPath(entry.sha256), 'utf8');
  };

  test('captures every artefact kind for a running pod', async () => {
    const incidentId = 'incident-00000000000000a1';
    const result = await activities().collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['objects', 'logs', 'exec', 'checkpoint'],
      limits: { execDeadlineMs: 10_000 },
    });

    const names = result.artefacts.map((ref) => ref.name);
    for (const name of [
      'objects/pod',
      'objects/owner-replicaset',
      'objects/owner-deployment',
      'objects/node',
      'objects/events',
      'objects/networkpolicies',
      'objects/rbac',
      'logs/app/current',
      'logs/app/previous',
      'exec/app/processes',
      'exec/app/connections',
      'exec/app/file-changes',
      'exec/app/environment',
      'checkpoint/app',
    ]) {
      expect(names).toContain(name);
    }
    expect(result.manifestPath).toBe(store.manifestLocation(incidentId));
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(4096);

    const anchor = {
      headSha256: result.custodyHeadSha256 ?? '',
      entryCount: result.custodyEntryCount,
      source: 'result',
    };
    const verified = await verifyIncidentEvidence(store, incidentId, { anchors: [anchor] });
    expect(verified.problems).toEqual([]);
  });

  test('records the chain head in the result and the head log', async () => {
    const incidentId = 'incident-00000000000000a0';
    const first = await activities().collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['objects'],
      limits: {},
    });
    const second = await activities().collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['logs'],
      limits: {},
    });

    const entries = await entriesOf(incidentId);
    expect(second.custodyEntryCount).toBe(entries.length);
    expect(second.custodyHeadSha256).toBe(entries.at(-1)?.entrySha256);
    expect(first.custodyEntryCount).toBe(entries.length - second.artefacts.length);
    const headLog = (await store.readHeadLog(incidentId))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(headLog).toEqual([
      expect.objectContaining({ headSha256: first.custodyHeadSha256, entryCount: first.custodyEntryCount }),
      expect.objectContaining({ headSha256: second.custodyHeadSha256, entryCount: second.custodyEntryCount }),
    ]);
  });

  test('stores the policies and bindings that apply to the pod', async () => {
    const incidentId = 'incident-00000000000000a2';
    await activities().collectEvidence({ incidentId, target: workload.target, kinds: ['objects'], limits: {} });

    const policies = await readArtefact(incidentId, 'objects/networkpolicies');
    expect(policies).toContain('"web-ingress"');
    expect(policies).not.toContain('"db-only"');
    const rbac = await readArtefact(incidentId, 'objects/rbac');
    expect(rbac).toContain('"checkout-read-config"');
    expect(rbac).not.toContain('"other-read-config"');
    expect(rbac).toContain('"configmaps"');

    const pod = (await entriesOf(incidentId)).find((entry) => entry.name === 'objects/pod');
    expect(pod?.source).toEqual(
      expect.objectContaining({ kind: 'Pod', uid: workload.target.uid, namespace: workload.namespace }),
    );
    expect(pod?.source.resourceVersion).toMatch(/^\d+$/);
    expect(pod?.collectedBy.kubernetesUser).toBe('firebreak-admin');
  });

  test('records the checkpoint API as unsupported with its HTTP status', async () => {
    const incidentId = 'incident-00000000000000a3';
    const result = await activities().collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['checkpoint'],
      limits: {},
    });

    expect(result.artefacts).toEqual([
      expect.objectContaining({ name: 'checkpoint/app', unsupported: true, incomplete: true }),
    ]);
    const record = JSON.parse(await readArtefact(incidentId, 'checkpoint/app'));
    // The lab's kwok nodes have loopback addresses, which the API server refuses to proxy to (HTTP 400).
    expect([400, 404, 405, 501, 502, 503]).toContain(record.httpStatus);
    expect(record.outcome).toMatch(/does not offer the checkpoint API|could not reach the node's checkpoint API/);
    expect(record.request).toBe(
      `POST /api/v1/nodes/kwok-node-0/proxy/checkpoint/${workload.namespace}/${workload.target.pod}/app`,
    );
  });

  test('redacts tokens in stored logs by default', async () => {
    const incidentId = 'incident-00000000000000a4';
    await activities().collectEvidence({ incidentId, target: workload.target, kinds: ['logs'], limits: {} });

    const log = await readArtefact(incidentId, 'logs/app/current');
    expect(log).toContain('id=00000199');
    expect(log).not.toContain(jwt);
    expect(log).toContain('Authorization: Bearer [REDACTED]');
    expect(await readArtefact(incidentId, 'logs/app/previous')).toContain('out of memory');
  });

  test('keepSecretsInRaw keeps tokens and adds a redacted copy', async () => {
    const incidentId = 'incident-00000000000000a5';
    const result = await activities().collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['logs'],
      limits: {},
      keepSecretsInRaw: true,
    });

    expect(await readArtefact(incidentId, 'logs/app/current')).toContain(jwt);
    expect(await readArtefact(incidentId, 'logs/app/current.redacted')).not.toContain(jwt);
    const copy = (await entriesOf(incidentId)).find((entry) => entry.name === 'logs/app/current.redacted');
    expect(copy?.redactedCopyOf).toBe('logs/app/current');
    expect(result.artefacts.map((ref) => ref.name)).toContain('logs/app/current.redacted');
  });

  test('truncates a log larger than the limit and marks it', async () => {
    const incidentId = 'incident-00000000000000a6';
    const result = await activities().collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['logs'],
      limits: { maxLogBytes: 1000 },
    });

    const current = result.artefacts.find((ref) => ref.name === 'logs/app/current');
    expect(current?.truncated).toBe(true);
    const entry = (await entriesOf(incidentId)).find((candidate) => candidate.name === 'logs/app/current');
    expect(entry?.truncated).toBe(true);
    expect(entry?.bytes).toBeLessThanOrEqual(1000);
    const previous = result.artefacts.find((ref) => ref.name === 'logs/app/previous');
    expect(previous?.truncated).toBeUndefined();
  });

  test('returns a partial exec result marked incomplete at the deadline', async () => {
    const incidentId = 'incident-00000000000000a7';
    const hanging = [{ name: 'hang', attempts: [['sh', '-c', 'echo started; sleep 20']], redaction: 'text' as const }];
    const startedMs = Date.now();
    const result = await activities({ execPlans: hanging }).collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['exec'],
      limits: { execDeadlineMs: 2000 },
    });
    const elapsedMs = Date.now() - startedMs;

    expect(elapsedMs).toBeLessThan(8000);
    expect(result.artefacts).toEqual([expect.objectContaining({ name: 'exec/app/hang', incomplete: true })]);
    expect(await readArtefact(incidentId, 'exec/app/hang')).toBe('started\n');
    const entry = (await entriesOf(incidentId)).find((candidate) => candidate.name === 'exec/app/hang');
    expect(entry?.details?.attempts).toEqual([
      expect.objectContaining({ status: 'DeadlineExceeded', complete: false, exitCode: null }),
    ]);
  });

  test('falls back to the next command when a binary is missing', async () => {
    const incidentId = 'incident-00000000000000a8';
    const plans = [
      {
        name: 'processes',
        attempts: [
          ['firebreak-no-such-ps', '-ef'],
          ['sh', '-c', 'echo from-proc; exit 3'],
        ],
        redaction: 'text' as const,
      },
    ];
    await activities({ execPlans: plans }).collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['exec'],
      limits: {},
    });

    expect(await readArtefact(incidentId, 'exec/app/processes')).toBe('from-proc\n');
    const entry = (await entriesOf(incidentId)).find((candidate) => candidate.name === 'exec/app/processes');
    const attempts = entry?.details?.attempts;
    expect(attempts).toEqual([
      expect.objectContaining({ command: ['firebreak-no-such-ps', '-ef'], complete: true }),
      expect.objectContaining({ command: ['sh', '-c', 'echo from-proc; exit 3'], exitCode: 3, complete: true }),
    ]);
  });

  test('records the exit code of a successful command', async () => {
    const incidentId = 'incident-00000000000000a9';
    const plans = defaultExecPlans({ fileChangeRoot: '.' }).filter((plan) => plan.name === 'processes');
    await activities({ execPlans: plans }).collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['exec'],
      limits: {},
    });

    const entry = (await entriesOf(incidentId)).find((candidate) => candidate.name === 'exec/app/processes');
    expect(entry?.details?.attempts).toEqual([
      expect.objectContaining({ command: ['ps', '-ef'], exitCode: 0, status: 'Success' }),
    ]);
    expect(await readArtefact(incidentId, 'exec/app/processes')).toMatch(/PID/);
  });

  test('verify names the artefact after one stored byte flips', async () => {
    const incidentId = 'incident-00000000000000b1';
    await activities().collectEvidence({ incidentId, target: workload.target, kinds: ['objects', 'logs'], limits: {} });
    const entry = (await entriesOf(incidentId)).find((candidate) => candidate.name === 'objects/node');
    if (!entry) throw new Error('objects/node is not in the manifest');
    const file = store.objectPath(entry.sha256);
    const bytes = readFileSync(file);
    bytes[10] = (bytes[10] ?? 0) ^ 0x20;
    chmodSync(file, 0o644);
    writeFileSync(file, bytes);

    const result = await verifyIncidentEvidence(store, incidentId);
    expect(result.ok).toBe(false);
    expect(result.problems.map((problem) => problem.artefact)).toEqual(['objects/node']);
  });

  test('keeps the result under 4 KiB for a pod with many containers', async () => {
    const incidentId = 'incident-00000000000000b2';
    const many = await createLabWorkload(kubeConfig, [
      'app',
      'sidecar-one',
      'sidecar-two',
      'sidecar-three',
      'sidecar-four',
      'sidecar-five',
    ]);
    try {
      const result = await activities().collectEvidence({
        incidentId,
        target: many.target,
        kinds: ['objects', 'logs', 'exec', 'checkpoint'],
        limits: { execDeadlineMs: 10_000 },
        keepSecretsInRaw: true,
      });
      expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(4096);
      const listed = result.artefacts.length + (result.omittedArtefacts ?? 0);
      expect(listed).toBe((await entriesOf(incidentId)).length);
    } finally {
      await deleteNamespace(kubeConfig, many.namespace);
    }
  }, 120_000);

  test('records a pod that is already gone', async () => {
    const incidentId = 'incident-00000000000000b3';
    const target = { ...workload.target, pod: 'checkout-gone-00000' };
    const result = await activities().collectEvidence({ incidentId, target, kinds: ['objects', 'logs'], limits: {} });

    expect(result.artefacts).toEqual([expect.objectContaining({ name: 'objects/pod-missing', incomplete: true })]);
  });

  test('rejects an unknown evidence kind', async () => {
    const input = {
      incidentId: 'incident-00000000000000b4',
      target: workload.target,
      kinds: ['memory-dump'],
      limits: {},
    };
    await expect(activities().collectEvidence(input)).rejects.toMatchObject({
      type: 'EvidenceInvalidInput',
      nonRetryable: true,
    });
  });

  test('fails as forbidden for a user without RBAC', async () => {
    const env = testEnv();
    const restricted = kubeConfigFor({ token: env.kube.restrictedToken });
    const input = { incidentId: 'incident-00000000000000b5', target: workload.target, kinds: ['objects'], limits: {} };
    await expect(activities({ kubeConfig: restricted }).collectEvidence(input)).rejects.toMatchObject({
      type: 'KubernetesForbidden',
    });
  });

  // Runs last in this file because it replaces the log that every pod serves.
  test('streams a 5 MiB log and returns a small result', async () => {
    const incidentId = 'incident-00000000000000b6';
    // 65,536 CRI lines of about 125 bytes; kwok serves them as about 90-byte lines, over 5 MiB in all.
    const lines = Array.from({ length: 65_536 }, (_, index) => logLine(index));
    writeFileSync(testEnv().kube.logFiles.current, lines.join(''));

    const result = await activities().collectEvidence({
      incidentId,
      target: workload.target,
      kinds: ['logs'],
      limits: {},
    });
    const current = result.artefacts.find((ref) => ref.name === 'logs/app/current');
    expect(current?.truncated).toBeUndefined();
    expect(current?.bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(1024);
    const verified = await verifyIncidentEvidence(store, incidentId);
    expect(verified.ok).toBe(true);
  });
});

describe('storeAlertBodies', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-alerts-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('stores each distinct alert body once', async () => {
    const store = new LocalEvidenceStore(root);
    const fixture = JSON.parse(
      readFileSync(path.join(__dirname, '../../../deploy/examples/alerts/falcosidekick-terminal-shell.json'), 'utf8'),
    );
    const { storeAlertBodies } = createEvidenceActivities({ kubeConfig: kubeConfigFor('admin'), store });
    const incidentId = 'incident-00000000000000c1';

    const first = await storeAlertBodies({ incidentId, bodies: [fixture, 'plain text alert'] });
    const second = await storeAlertBodies({ incidentId, bodies: [fixture] });

    expect(first.artefacts).toHaveLength(2);
    expect(second.artefacts).toHaveLength(0);
    const verified = await verifyIncidentEvidence(store, incidentId);
    expect(verified.entries).toBe(2);
    expect(verified.ok).toBe(true);
  });
});
