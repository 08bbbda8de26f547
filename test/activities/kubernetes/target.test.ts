import { testEnv } from '../../support/env';
import {
  adminClients,
  container,
  createDeployment,
  createNamespace,
  createPod,
  createStatefulSet,
  deleteNamespace,
  identities,
  kubeConfigOf,
  recordedActivities,
  runningPods,
  unscopedRequests,
} from './kube-lab';

const incidentId = 'incident-5eed0000000000aa';

describe.each(identities)('resolveTarget as %s', (identity) => {
  const admin = adminClients();
  const node = testEnv().kube.nodes[1] ?? 'kwok-node-1';
  let namespace = '';
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    namespace = await createNamespace(admin, 'fb-target');
    run = recordedActivities(await kubeConfigOf(identity, admin));
    await createDeployment(admin, namespace, 'web', 1, node);
    await createStatefulSet(admin, namespace, 'db', 1, node);
    await createPod(admin, namespace, 'debug-tools', { run: 'debug-tools' }, node);
    await runningPods(admin, namespace, 'app in (web,db)', 2);
    await runningPods(admin, namespace, 'run=debug-tools', 1);
  });

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('resolveTarget walks a Deployment pod up to its Deployment', async () => {
    const [pod] = await runningPods(admin, namespace, 'app=web', 1);
    const name = pod?.metadata?.name ?? '';
    const replicaSet = pod?.metadata?.ownerReferences?.[0];

    const result = await run.activities.resolveTarget({ incidentId, namespace, pod: name });

    expect(result.status).toBe('resolved');
    if (result.status !== 'resolved') return;
    const deployment = await admin.apps.readNamespacedDeployment({ namespace, name: 'web' });
    expect(result.target.owners).toEqual([
      { kind: 'ReplicaSet', name: replicaSet?.name, uid: replicaSet?.uid },
      { kind: 'Deployment', name: 'web', uid: deployment.metadata?.uid },
    ]);
    expect(result.target.workload).toEqual({ kind: 'Deployment', name: 'web' });
    expect(result.target.uid).toBe(pod?.metadata?.uid);
    expect(result.target.resourceVersion).toMatch(/^\d+$/);
    expect(result.target.node).toBe(node);
    expect(result.target.serviceAccount).toBe('default');
    expect(result.target.labels.app).toBe('web');
    expect(result.target.images).toEqual([
      {
        container: 'app',
        image: 'registry.example.net/shop/app:1.0',
        imageID: expect.stringMatching(/@sha256:[0-9a-f]{64}$/),
      },
    ]);
  });

  it('resolveTarget names a StatefulSet as the workload', async () => {
    const result = await run.activities.resolveTarget({ incidentId, namespace, pod: 'db-0' });

    expect(result.status).toBe('resolved');
    if (result.status !== 'resolved') return;
    expect(result.target.owners.map((owner) => owner.kind)).toEqual(['StatefulSet']);
    expect(result.target.workload).toEqual({ kind: 'StatefulSet', name: 'db' });
  });

  it('resolveTarget resolves a standalone pod without owners', async () => {
    const result = await run.activities.resolveTarget({ incidentId, namespace, pod: 'debug-tools' });

    expect(result.status).toBe('resolved');
    if (result.status !== 'resolved') return;
    expect(result.target.owners).toEqual([]);
    expect(result.target.workload).toBeUndefined();
  });

  it('resolveTarget ignores owner references that are not controllers', async () => {
    const deployment = await admin.apps.readNamespacedDeployment({ namespace, name: 'web' });
    const reference = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: deployment.metadata?.uid ?? '' };
    await admin.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'claims-web', labels: { run: 'claims-web' }, ownerReferences: [reference] },
        spec: { nodeName: node, containers: [container()] },
      },
    });

    const result = await run.activities.resolveTarget({ incidentId, namespace, pod: 'claims-web' });

    expect(result.status).toBe('resolved');
    if (result.status !== 'resolved') return;
    expect(result.target.owners).toEqual([]);
    expect(result.target.workload).toBeUndefined();
  });

  it('resolveTarget finds a pod from its container id and node', async () => {
    const pod = await admin.core.readNamespacedPod({ namespace, name: 'debug-tools' });
    const containerId = pod.status?.containerStatuses?.[0]?.containerID ?? '';
    const shortId = containerId.replace(/^[a-z]+:\/\//, '').slice(0, 12);
    expect(shortId).toHaveLength(12);

    const result = await run.activities.resolveTarget({ incidentId, containerId: shortId, node });

    expect(result).toMatchObject({ status: 'resolved', target: { namespace, pod: 'debug-tools' } });
  });

  it('resolveTarget returns unresolved for a missing pod', async () => {
    const result = await run.activities.resolveTarget({ incidentId, namespace, pod: 'not-there' });

    expect(result).toEqual({ status: 'unresolved', reason: `pod ${namespace}/not-there was not found` });
  });

  it('resolveTarget does not search all namespaces for a bare pod name', async () => {
    const sent = run.records.length;

    const result = await run.activities.resolveTarget({ incidentId, pod: 'debug-tools' });

    expect(result.status).toBe('unresolved');
    expect(run.records.length).toBe(sent);
  });

  it('resolveTarget returns unresolved for an unknown container id', async () => {
    const result = await run.activities.resolveTarget({ incidentId, containerId: 'abcdef012345', node });

    expect(result.status).toBe('unresolved');
  });

  it('resolveTarget rejects an empty incident id', async () => {
    await expect(run.activities.resolveTarget({ incidentId: '', namespace, pod: 'debug-tools' })).rejects.toMatchObject(
      {
        type: 'EmptyScope',
        nonRetryable: true,
      },
    );
  });

  it('sent only scoped requests', () => {
    expect(run.records.length).toBeGreaterThan(0);
    expect(unscopedRequests(run.records)).toEqual([]);
    const podLists = run.records.filter((record) => record.method === 'GET' && /\/pods$/.test(record.path));
    expect(podLists.length).toBeGreaterThan(0);
    expect(podLists.every((record) => record.path.startsWith('/api/v1/namespaces/'))).toBe(true);
  });
});
