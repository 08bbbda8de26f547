import type { V1LabelSelector } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { testEnv } from '../../support/env';
import {
  adminClients,
  createDeployment,
  createNamespace,
  createStatefulSet,
  deleteNamespace,
  identities,
  kubeConfigOf,
  patchesWithoutType,
  podTemplate,
  recordedActivities,
  runningPods,
  unscopedRequests,
  waitFor,
} from './kube-lab';

const incident = () => `incident-${randomBytes(8).toString('hex')}`;

describe.each(identities)('detachPod as %s', (identity) => {
  const admin = adminClients();
  const node = testEnv().kube.nodes[0] ?? 'kwok-node-0';
  let namespace = '';
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    namespace = await createNamespace(admin, 'fb-detach');
    run = recordedActivities(await kubeConfigOf(identity, admin));
    await createDeployment(admin, namespace, 'shop', 2, node);
    await createStatefulSet(admin, namespace, 'db', 1, node);
    await admin.core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'shop' }, spec: { selector: { app: 'shop' }, ports: [{ port: 80 }] } },
    });
    await runningPods(admin, namespace, 'app in (shop,db)', 3);
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('detachPod frees a Deployment pod from its ReplicaSet and Service', async () => {
    const incidentId = incident();
    const [suspect] = await runningPods(admin, namespace, 'app=shop', 2);
    const name = suspect?.metadata?.name ?? '';
    const original = suspect?.metadata?.labels ?? {};
    const input = { incidentId, namespace, pod: name, dryRun: false };

    const result = await run.activities.detachPod(input);
    const retried = await run.activities.detachPod(input);

    expect(result.removedLabels).toEqual(original);
    expect(Object.keys(result.removedLabels).sort()).toEqual(['app', 'pod-template-hash']);
    expect(result.services).toEqual(['shop']);
    expect(result.controller?.kind).toBe('ReplicaSet');
    expect(result.replacementExpected).toBe(true);
    expect(retried).toEqual(result);
    const replacements = await runningPods(admin, namespace, 'app=shop', 2);
    expect(replacements.map((pod) => pod.metadata?.name)).not.toContain(name);
    const released = await waitFor('the ReplicaSet to release the pod', async () => {
      const pod = await admin.core.readNamespacedPod({ namespace, name });
      return pod.metadata?.ownerReferences?.length ? undefined : pod;
    });
    expect(released.metadata?.labels ?? {}).toEqual({});

    const reattached = await run.activities.reattachPod({ ...input, labels: result.removedLabels });

    expect(reattached).toEqual({ reattached: true, labels: original, dryRun: false });
    // The ReplicaSet adopts the pod again and, with one pod too many, deletes one of the three.
    const settled = await runningPods(admin, namespace, 'app=shop', 2);
    expect(settled.every((pod) => pod.metadata?.ownerReferences?.[0]?.kind === 'ReplicaSet')).toBe(true);
  });

  it('detachPod on a StatefulSet pod expects no replacement', async () => {
    const input = { incidentId: incident(), namespace, pod: 'db-0', dryRun: false };

    const result = await run.activities.detachPod(input);

    expect(result.controller).toEqual({ kind: 'StatefulSet', name: 'db' });
    expect(result.replacementExpected).toBe(false);
    expect(result.removedLabels).toMatchObject({ app: 'db' });
    const before = await admin.core.readNamespacedPod({ namespace, name: 'db-0' });
    expect(before.metadata?.labels?.app).toBeUndefined();
    await run.activities.reattachPod({ ...input, labels: result.removedLabels });
    const pod = await admin.core.readNamespacedPod({ namespace, name: 'db-0' });
    expect(pod.metadata?.uid).toBe(before.metadata?.uid);
    expect(pod.metadata?.labels).toMatchObject(result.removedLabels);
    expect(pod.metadata?.annotations?.['firebreak.dev/detached-labels']).toBeUndefined();
  });

  it('detachPod in dry run keeps the labels', async () => {
    const [pod] = await runningPods(admin, namespace, 'app=shop', 2);
    const name = pod?.metadata?.name ?? '';

    const result = await run.activities.detachPod({ incidentId: incident(), namespace, pod: name, dryRun: true });

    expect(result.removedLabels).toMatchObject({ app: 'shop' });
    const after = await admin.core.readNamespacedPod({ namespace, name });
    expect(after.metadata?.labels).toEqual(pod?.metadata?.labels);
    expect(after.metadata?.annotations?.['firebreak.dev/detached-labels']).toBeUndefined();
  });

  it('detachPod rejects an empty pod name', async () => {
    await expect(
      run.activities.detachPod({ incidentId: incident(), namespace, pod: '', dryRun: false }),
    ).rejects.toMatchObject({
      type: 'EmptyScope',
    });
  });

  it('sent only scoped requests with named patch types', () => {
    expect(unscopedRequests(run.records)).toEqual([]);
    expect(patchesWithoutType(run.records)).toEqual([]);
  });
});

/**
 * Two ReplicaSets share the label `tier`: `web` selects `app=web`, and `canary` selects `tier=fe` on pods
 * without an `app` label. Removing `app` from a `web` pod would hand it to `canary`.
 */
describe.each(identities)('detachPod next to another controller as %s', (identity) => {
  const admin = adminClients();
  const node = testEnv().kube.nodes[0] ?? 'kwok-node-0';
  let namespace = '';
  let run: ReturnType<typeof recordedActivities>;

  const createReplicaSet = (name: string, selector: V1LabelSelector, labels: Record<string, string>) =>
    admin.apps.createNamespacedReplicaSet({
      namespace,
      body: { metadata: { name }, spec: { replicas: 1, selector, template: podTemplate(labels, node) } },
    });

  beforeAll(async () => {
    namespace = await createNamespace(admin, 'fb-adopt');
    run = recordedActivities(await kubeConfigOf(identity, admin));
    await createReplicaSet('web', { matchLabels: { app: 'web' } }, { app: 'web', tier: 'fe' });
    await createReplicaSet(
      'canary',
      { matchLabels: { tier: 'fe' }, matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] },
      { tier: 'fe' },
    );
    await runningPods(admin, namespace, 'tier=fe', 2);
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('detachPod leaves a pod that another ReplicaSet would adopt', async () => {
    const [suspect] = await runningPods(admin, namespace, 'app=web', 1);
    const name = suspect?.metadata?.name ?? '';

    const result = await run.activities.detachPod({ incidentId: incident(), namespace, pod: name, dryRun: false });

    expect(result.detachUnsafe).toEqual([{ kind: 'ReplicaSet', name: 'canary' }]);
    expect(result.removedLabels).toEqual({});
    const after = await admin.core.readNamespacedPod({ namespace, name });
    expect(after.metadata?.labels).toEqual(suspect?.metadata?.labels);
    expect(after.metadata?.ownerReferences?.map((owner) => owner.name)).toEqual(['web']);
    expect(after.metadata?.annotations?.['firebreak.dev/detached-labels']).toBeUndefined();
    expect(run.records.filter((record) => record.method === 'PATCH')).toEqual([]);
  });
});
