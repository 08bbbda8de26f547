import type { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEvidenceActivities } from '../../../activities/evidence';
import { LocalEvidenceStore } from '../../../activities/evidence/store';
import { loadEvidenceContext } from '../../../activities/report';
import { artefactStatusOf, artefactStatusOfRef } from '../../../activities/report/artefact-state';
import { renderMarkdown } from '../../../activities/report/markdown';
import { buildIncidentReport, type IncidentReport } from '../../../activities/report/report';
import { kubeConfigFor } from '../../support/kube';
import { deleteEvidenceRole, evidenceRoleKubeConfig } from '../evidence/evidence-role';
import { createLabWorkload, deleteNamespace, type LabWorkload } from '../evidence/lab-pod';
import { incidentRecordFor, sampleTarget } from './incident-record';

const incidentId = 'incident-00000000000000c7';
const execDeadlineMs = 1500;

describe('report artefact states', () => {
  const admin = kubeConfigFor('admin');
  let workload: LabWorkload;
  let narrowRole: KubeConfig;
  let root: string;
  let report: IncidentReport;
  let markdown: string;

  const rowOf = (name: string) => report.evidence.artefacts.find((row) => row.name === name);
  const markdownRowOf = (name: string) => markdown.split('\n').find((line) => line.startsWith(`| ${name} |`));

  beforeAll(async () => {
    workload = await createLabWorkload(admin);
    narrowRole = await evidenceRoleKubeConfig(admin, workload.namespace, ['rolebindings', 'nodes']);
    root = mkdtempSync(path.join(os.tmpdir(), 'firebreak-states-'));
    const store = new LocalEvidenceStore(root);
    const hanging = { name: 'hang', attempts: [['sh', '-c', 'echo started; sleep 20']], redaction: 'text' as const };
    const flood = { name: 'flood', attempts: [['sh', '-c', 'seq 1 20000']], redaction: 'text' as const };
    const collect = (kubeConfig: KubeConfig, input: object) =>
      createEvidenceActivities({ kubeConfig, store, execPlans: [hanging, flood] }).collectEvidence({
        incidentId,
        target: workload.target,
        limits: { execDeadlineMs },
        ...input,
      });

    await collect(admin, { kinds: ['checkpoint'] });
    await collect(admin, { kinds: ['exec'], limits: { execDeadlineMs, maxArtefactBytes: 4096 } });
    await collect(narrowRole, { kinds: ['objects'] });
    await collect(admin, { kinds: ['objects'], target: { ...workload.target, pod: 'checkout-gone-00000' } });

    const record = incidentRecordFor(workload.target);
    report = buildIncidentReport(record, await loadEvidenceContext(store, incidentId));
    markdown = renderMarkdown(report);
  }, 60_000);
  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
    await deleteEvidenceRole(admin, workload.namespace);
    await deleteNamespace(admin, workload.namespace);
  });

  test('complete artefact has no reason', () => {
    expect(rowOf('objects/pod')).toEqual(expect.objectContaining({ state: 'complete' }));
    expect(rowOf('objects/pod')?.stateReason).toBeUndefined();
    expect(markdownRowOf('objects/pod')).toContain(' | complete | ');
  });

  test('exec cut off by its deadline shows as stopped', () => {
    const reason = `no exit status within ${execDeadlineMs} ms`;
    expect(rowOf('exec/app/hang')).toEqual(expect.objectContaining({ state: 'stopped', stateReason: reason }));
    expect(markdownRowOf('exec/app/hang')).toContain(` | stopped: ${reason} | `);
  });

  test('output over the size limit shows as truncated', () => {
    const reason = 'cut at the artefact size limit';
    expect(rowOf('exec/app/flood')).toEqual(expect.objectContaining({ state: 'truncated', stateReason: reason }));
    expect(markdownRowOf('exec/app/flood')).toContain(` | truncated: ${reason} | `);
  });

  test('RBAC evidence with forbidden reads shows as partial', () => {
    const row = rowOf('objects/rbac');
    expect(row?.state).toBe('partial');
    expect(row?.stateReason).toMatch(/^\d+ RBAC reads were forbidden$/);
    expect(markdownRowOf('objects/rbac')).toContain(` | partial: ${row?.stateReason} | `);
  });

  test('checkpoint the node does not offer shows as unsupported', () => {
    const row = rowOf('checkpoint/app');
    expect(row?.state).toBe('unsupported');
    expect(row?.stateReason).toMatch(/does not offer the checkpoint API|could not reach the node's checkpoint API/);
    expect(markdownRowOf('checkpoint/app')).toContain(' | unsupported: ');
  });

  test('a pod gone before collection shows as failed', () => {
    const row = rowOf('objects/pod-missing');
    expect(row).toEqual(expect.objectContaining({ state: 'failed', stateReason: 'the pod no longer exists' }));
    expect(markdownRowOf('objects/pod-missing')).toContain(' | failed: the pod no longer exists | ');
  });

  test('collection errors show as failed with their count', () => {
    // The role lacks nodes, so the node step fails and the other object steps go on.
    const row = rowOf('collection-errors');
    expect(row?.state).toBe('failed');
    expect(rowOf('objects/node')).toBeUndefined();
    expect(row?.stateReason).toMatch(
      /^\d+ steps? failed while their collectors went on; this artefact lists each error$/,
    );
  });

  test('JSON report carries the state of every row', () => {
    const json = JSON.parse(JSON.stringify(report)) as { evidence: { artefacts: { state: string }[] } };
    const states = new Set(json.evidence.artefacts.map((row) => row.state));
    expect([...states].sort()).toEqual(['complete', 'failed', 'partial', 'stopped', 'truncated', 'unsupported']);
  });
});

describe('artefactStatusOf', () => {
  test('names the byte limit of a truncated log', () => {
    const status = artefactStatusOf({
      truncated: true,
      incomplete: false,
      details: { previous: false, maxBytes: 1000 },
    });
    expect(status).toEqual({ state: 'truncated', reason: 'cut at the 1000-byte limit' });
  });

  test('prefers stopped over truncated', () => {
    const attempts = [{ status: 'DeadlineExceeded', message: 'no exit status within 30000 ms' }];
    const status = artefactStatusOf({ truncated: true, incomplete: true, details: { attempts } });
    expect(status).toEqual({ state: 'stopped', reason: 'no exit status within 30000 ms' });
  });

  test('shows a closed exec connection as partial', () => {
    const attempts = [{ status: 'Closed', message: 'connection closed (code 1006) before an exit status' }];
    const status = artefactStatusOf({ truncated: false, incomplete: true, details: { attempts } });
    expect(status).toEqual({ state: 'partial', reason: 'connection closed (code 1006) before an exit status' });
  });

  test('shows a forbidden checkpoint as failed', () => {
    const details = { httpStatus: 403, failed: true, outcome: 'the collector may not create nodes/proxy' };
    const status = artefactStatusOf({ truncated: false, incomplete: true, details });
    expect(status).toEqual({ state: 'failed', reason: 'the collector may not create nodes/proxy' });
  });

  test('reads record references without details', () => {
    expect(artefactStatusOfRef({ unsupported: true, incomplete: true }).state).toBe('unsupported');
    expect(artefactStatusOfRef({ truncated: true }).state).toBe('truncated');
    expect(artefactStatusOfRef({ incomplete: true }).state).toBe('partial');
    expect(artefactStatusOfRef({}).state).toBe('complete');
  });
});

describe('report clocks', () => {
  test('a clock stopped by a stand-down shows as stopped', () => {
    const record = incidentRecordFor(sampleTarget);
    const stopped = {
      name: 'eradicate' as const,
      targetMs: 14_400_000,
      startedAt: '2024-12-04T12:00:03.000Z',
      dueAt: '2024-12-04T16:00:03.000Z',
      stoppedAt: '2024-12-04T12:30:00.000Z',
    };
    const built = buildIncidentReport({ ...record, clocks: [stopped] }, undefined);

    expect(built.clocks[0]?.status).toBe('stopped');
    expect(renderMarkdown(built)).toContain(
      '| eradicate | 4 h | 2024-12-04T12:00:03.000Z | 2024-12-04T16:00:03.000Z | stopped at 2024-12-04T12:30:00.000Z: the incident was stood down first |',
    );
  });
});
