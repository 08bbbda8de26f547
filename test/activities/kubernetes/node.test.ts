import { randomBytes } from 'node:crypto';
import { mergePatch } from '../../../activities/kubernetes/client';
import {
  adminClients,
  createDeployment,
  createNamespace,
  createNode,
  createPod,
  deleteNamespace,
  deleteNode,
  identities,
  kubeConfigOf,
  patchesWithoutType,
  recordedActivities,
  runningPods,
  statusOf,
  unscopedRequests,
  waitFor,
} from './kube-lab';
import type { AdminClients } from './kube-lab';
import { createDaemonSetPod, createMirrorPod } from './node-lab';

const incident = () => `incident-${randomBytes(8).toString('hex')}`;

async function readNode(admin: AdminClients, name: string) {
  return admin.core.readNode({ name });
}

describe.each(identities)('cordon as %s', (identity) => {
  const admin = adminClients();
  let node = '';
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    node = await createNode(admin, 'fb-cordon');
    run = recordedActivities(await kubeConfigOf(identity, admin));
  });

  afterAll(async () => {
    await deleteNode(admin, node);
  });

  it('cordonNode retried after a worker crash still reports a schedulable node', async () => {
    const incidentId = incident();
    const before = await readNode(admin, node);

    const first = await run.activities.cordonNode({ incidentId, node, dryRun: false });
    const second = await run.activities.cordonNode({ incidentId, node, dryRun: false });

    expect(first).toEqual({ wasUnschedulable: false });
    expect(second).toEqual({ wasUnschedulable: false });
    const cordoned = await readNode(admin, node);
    expect(cordoned.spec?.unschedulable).toBe(true);
    expect(cordoned.metadata?.annotations?.['firebreak.dev/cordoned-by']).toBe(incidentId);

    const uncordoned = await run.activities.uncordonNode({ incidentId, node, dryRun: false });
    const again = await run.activities.uncordonNode({ incidentId, node, dryRun: false });

    expect(uncordoned).toMatchObject({ uncordoned: true, unschedulable: false });
    expect(again).toMatchObject({ uncordoned: false, unschedulable: false });
    const after = await readNode(admin, node);
    expect(after.spec?.unschedulable).toBe(before.spec?.unschedulable);
    expect(after.metadata?.annotations).toEqual(before.metadata?.annotations);
  });

  it('uncordonNode leaves a node cordoned before the incident', async () => {
    const incidentId = incident();
    await admin.core.patchNode(
      { name: node, body: [{ op: 'add', path: '/spec/unschedulable', value: true }] },
      undefined,
    );

    const cordon = await run.activities.cordonNode({ incidentId, node, dryRun: false });
    const uncordon = await run.activities.uncordonNode({ incidentId, node, dryRun: false });

    expect(cordon).toEqual({ wasUnschedulable: true });
    expect(uncordon).toMatchObject({ uncordoned: false, unschedulable: true });
    expect((await readNode(admin, node)).spec?.unschedulable).toBe(true);
    await admin.core.patchNode({ name: node, body: [{ op: 'remove', path: '/spec/unschedulable' }] });
  });

  it('cordonNode cordons again after a manual uncordon', async () => {
    const incidentId = incident();
    await run.activities.cordonNode({ incidentId, node, dryRun: false });
    await admin.core.patchNode({ name: node, body: { spec: { unschedulable: false } } }, mergePatch());

    const again = await run.activities.cordonNode({ incidentId, node, dryRun: false });

    expect(again).toEqual({ wasUnschedulable: false });
    const cordoned = await readNode(admin, node);
    expect(cordoned.spec?.unschedulable).toBe(true);
    expect(cordoned.metadata?.annotations?.['firebreak.dev/cordoned-by']).toBe(incidentId);
    expect(await run.activities.uncordonNode({ incidentId, node, dryRun: false })).toMatchObject({ uncordoned: true });
    expect((await readNode(admin, node)).spec?.unschedulable).toBeUndefined();
  });

  it('uncordonNode leaves a cordon set again by someone else', async () => {
    const incidentId = incident();
    await run.activities.cordonNode({ incidentId, node, dryRun: false });
    await admin.core.patchNode({ name: node, body: { spec: { unschedulable: null } } }, mergePatch());
    await admin.core.patchNode({ name: node, body: { spec: { unschedulable: true } } }, mergePatch());

    const result = await run.activities.uncordonNode({ incidentId, node, dryRun: false });

    const after = await readNode(admin, node);
    expect(after.spec?.unschedulable).toBe(true);
    expect(result).toEqual({ uncordoned: false, unschedulable: true, reason: 'cordonChangedSince', dryRun: false });
    expect(after.metadata?.annotations?.['firebreak.dev/cordoned-by']).toBeUndefined();
    await admin.core.patchNode({ name: node, body: { spec: { unschedulable: null } } }, mergePatch());
  });

  it('uncordonNode leaves a cordon of another incident', async () => {
    const incidentId = incident();
    await run.activities.cordonNode({ incidentId, node, dryRun: false });

    const other = await run.activities.uncordonNode({ incidentId: incident(), node, dryRun: false });

    expect(other).toEqual({
      uncordoned: false,
      unschedulable: true,
      reason: 'notCordonedByThisIncident',
      dryRun: false,
    });
    expect((await readNode(admin, node)).spec?.unschedulable).toBe(true);
    await run.activities.uncordonNode({ incidentId, node, dryRun: false });
  });

  it('cordonNode in dry run leaves the node schedulable', async () => {
    const result = await run.activities.cordonNode({ incidentId: incident(), node, dryRun: true });

    expect(result).toEqual({ wasUnschedulable: false });
    const after = await readNode(admin, node);
    expect(after.spec?.unschedulable).toBeUndefined();
    expect(after.metadata?.annotations?.['firebreak.dev/cordoned-by']).toBeUndefined();
  });

  it('cordonNode rejects an empty node name', async () => {
    await expect(run.activities.cordonNode({ incidentId: incident(), node: '', dryRun: false })).rejects.toMatchObject({
      type: 'EmptyScope',
      nonRetryable: true,
    });
  });

  it('sent only scoped requests with named patch types', () => {
    expect(unscopedRequests(run.records)).toEqual([]);
    expect(patchesWithoutType(run.records)).toEqual([]);
    const patches = run.records.filter((record) => record.method === 'PATCH');
    expect(patches.map((record) => record.contentType)).toContain('application/strategic-merge-patch+json');
  });
});

/**
 * The drain runs on a node of its own. On it are a standalone pod, a Deployment pod, a Deployment pod whose
 * PodDisruptionBudget allows no disruption, a pod controlled by a DaemonSet, and a mirror pod. The budget's
 * status is computed by the disruption controller of kube-controller-manager.
 */
describe.each(identities)('drainNode as %s', (identity) => {
  const admin = adminClients();
  let node = '';
  let namespace = '';
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    node = await createNode(admin, 'fb-drain');
    namespace = await createNamespace(admin, 'fb-drain');
    run = recordedActivities(await kubeConfigOf(identity, admin));
    await createPod(admin, namespace, 'loose', { app: 'loose' }, node);
    await createDeployment(admin, namespace, 'web', 1, node);
    await createDeployment(admin, namespace, 'ledger', 1, node);
    await admin.policy.createNamespacedPodDisruptionBudget({
      namespace,
      body: {
        metadata: { name: 'ledger-pdb' },
        spec: { minAvailable: 1, selector: { matchLabels: { app: 'ledger' } } },
      },
    });
    await createDaemonSetPod(admin, namespace, node);
    await createMirrorPod(admin, namespace, node);
    await runningPods(admin, namespace, 'app in (loose,web,ledger,agent,static)', 5);
    await waitFor('ledger-pdb status', async () => {
      const budget = await admin.policy.readNamespacedPodDisruptionBudget({ namespace, name: 'ledger-pdb' });
      const computed = budget.status?.observedGeneration === budget.metadata?.generation;
      return computed && budget.status?.currentHealthy === 1 && budget.status.disruptionsAllowed === 0
        ? true
        : undefined;
    });
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
    await deleteNode(admin, node);
  });

  it('drainNode in dry run evicts nothing', async () => {
    const before = (await admin.core.listNamespacedPod({ namespace })).items.map((pod) => pod.metadata?.uid).sort();

    const result = await run.activities.drainNode({
      incidentId: incident(),
      node,
      gracePeriodSec: 0,
      deadlineMs: 1500,
      dryRun: true,
    });

    expect(result.skipped).toEqual([`${namespace}/agent-0`, `${namespace}/static-${node}`]);
    const after = (await admin.core.listNamespacedPod({ namespace })).items.map((pod) => pod.metadata?.uid).sort();
    expect(after).toEqual(before);
    expect((await readNode(admin, node)).spec?.unschedulable).toBeUndefined();
  });

  it('drainNode stops at a PodDisruptionBudget and never deletes the pod', async () => {
    const incidentId = incident();
    const [ledger] = await runningPods(admin, namespace, 'app=ledger', 1);
    const [web] = await runningPods(admin, namespace, 'app=web', 1);
    const started = Date.now();

    const result = await run.activities.drainNode({
      incidentId,
      node,
      gracePeriodSec: 0,
      deadlineMs: 4000,
      dryRun: false,
    });

    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    expect(result.complete).toBe(false);
    expect(result.evicted).toEqual([`${namespace}/loose`, `${namespace}/${web?.metadata?.name}`].sort());
    expect(result.skipped).toEqual([`${namespace}/agent-0`, `${namespace}/static-${node}`]);
    // The lab's pod templates set spec.nodeName, so the ReplicaSet's replacement for web lands on the cordoned node.
    const webPods = await admin.core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
    const replacement = webPods.items.find((pod) => pod.metadata?.uid !== web?.metadata?.uid);
    expect(result.blocked).toEqual([
      {
        pod: `${namespace}/${ledger?.metadata?.name}`,
        reason: 'eviction refused by PodDisruptionBudget until the deadline (budgets: ledger-pdb)',
      },
      {
        pod: `${namespace}/${replacement?.metadata?.name}`,
        reason: expect.stringMatching(/^arrived on the node during the drain/),
      },
    ]);
    const still = await admin.core.readNamespacedPod({ namespace, name: ledger?.metadata?.name ?? '' });
    expect(still.metadata?.uid).toBe(ledger?.metadata?.uid);
    expect(still.metadata?.deletionTimestamp).toBeUndefined();
    const loose = await admin.core.readNamespacedPod({ namespace, name: 'loose' }).catch(statusOf);
    expect(loose).toBe(404);
    expect((await readNode(admin, node)).spec?.unschedulable).toBe(true);
    expect(run.records.some((record) => record.method === 'DELETE' && /\/pods\//.test(record.path))).toBe(false);

    await run.activities.uncordonNode({ incidentId, node, dryRun: false });
    expect((await readNode(admin, node)).spec?.unschedulable).toBeUndefined();
  });

  it('sent only scoped requests and no pod deletes', () => {
    expect(unscopedRequests(run.records)).toEqual([]);
    expect(patchesWithoutType(run.records)).toEqual([]);
    const evictions = run.records.filter((record) => record.path.endsWith('/eviction'));
    expect(evictions.length).toBeGreaterThan(3);
    expect(run.records.filter((record) => record.method === 'DELETE')).toEqual([]);
  });
});

describe.each(identities)('drainNode with overlapping budgets as %s', (identity) => {
  const admin = adminClients();
  let node = '';
  let namespace = '';
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    node = await createNode(admin, 'fb-twin');
    namespace = await createNamespace(admin, 'fb-twin');
    run = recordedActivities(await kubeConfigOf(identity, admin));
    await createPod(admin, namespace, 'twin', { app: 'twin' }, node);
    for (const name of ['twin-a', 'twin-b']) {
      await admin.policy.createNamespacedPodDisruptionBudget({
        namespace,
        body: { metadata: { name }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'twin' } } } },
      });
    }
    await runningPods(admin, namespace, 'app=twin', 1);
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
    await deleteNode(admin, node);
  });

  it('drainNode reports a pod that two budgets select without waiting', async () => {
    const incidentId = incident();
    const started = Date.now();

    const result = await run.activities.drainNode({
      incidentId,
      node,
      gracePeriodSec: 0,
      deadlineMs: 30_000,
      dryRun: false,
    });

    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result).toEqual({
      evicted: [],
      skipped: [],
      blocked: [
        { pod: `${namespace}/twin`, reason: 'more than one PodDisruptionBudget selects the pod: twin-a, twin-b' },
      ],
      complete: false,
    });
    const twin = await admin.core.readNamespacedPod({ namespace, name: 'twin' });
    expect(twin.metadata?.deletionTimestamp).toBeUndefined();
    await run.activities.uncordonNode({ incidentId, node, dryRun: false });
  });
});
