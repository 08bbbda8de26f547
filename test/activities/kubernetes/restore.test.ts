import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { createKubernetesActivities } from '../../../activities/kubernetes';
import {
  adminClients,
  createDeployment,
  createNamespace,
  createNode,
  createStatefulSet,
  deleteNamespace,
  deleteNode,
  identities,
  kubeConfigOf,
  patchesWithoutType,
  recordedActivities,
  runningPods,
  unscopedRequests,
  waitFor,
  type AdminClients,
} from './kube-lab';

const incident = () => `incident-${randomBytes(8).toString('hex')}`;

/** The state an incident may change and its recovery must give back, keyed by `Kind/name`. */
async function snapshot(admin: AdminClients, namespace: string, node: string): Promise<Map<string, unknown>> {
  const state = new Map<string, unknown>();
  const pods = await admin.core.listNamespacedPod({ namespace });
  for (const pod of pods.items) {
    state.set(`Pod/${pod.metadata?.name}`, { labels: pod.metadata?.labels, annotations: pod.metadata?.annotations });
  }
  const policies = await admin.networking.listNamespacedNetworkPolicy({ namespace });
  for (const policy of policies.items) {
    state.set(`NetworkPolicy/${policy.metadata?.name}`, { labels: policy.metadata?.labels, spec: policy.spec });
  }
  for (const deployment of (await admin.apps.listNamespacedDeployment({ namespace })).items) {
    const { replicas, paused } = deployment.spec ?? {};
    state.set(`Deployment/${deployment.metadata?.name}`, {
      replicas,
      paused,
      annotations: deployment.metadata?.annotations,
    });
  }
  for (const statefulSet of (await admin.apps.listNamespacedStatefulSet({ namespace })).items) {
    const replicas = statefulSet.spec?.replicas;
    state.set(`StatefulSet/${statefulSet.metadata?.name}`, {
      replicas,
      annotations: statefulSet.metadata?.annotations,
    });
  }
  const nodeObject = await admin.core.readNode({ name: node });
  state.set(`Node/${node}`, {
    unschedulable: nodeObject.spec?.unschedulable,
    annotations: nodeObject.metadata?.annotations,
    labels: nodeObject.metadata?.labels,
  });
  return state;
}

function expectSameState(after: Map<string, unknown>, before: Map<string, unknown>): void {
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [key, value] of before) {
    expect({ object: key, state: after.get(key) }).toEqual({ object: key, state: value });
  }
}

describe.each(identities)('incident recovery as %s', (identity) => {
  const admin = adminClients();
  let node = '';
  let namespace = '';
  let kubeConfig: KubeConfig;
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    node = await createNode(admin, 'fb-restore');
    namespace = await createNamespace(admin, 'fb-restore');
    kubeConfig = await kubeConfigOf(identity, admin);
    run = recordedActivities(kubeConfig);
    await createDeployment(admin, namespace, 'shop', 2, node);
    await createStatefulSet(admin, namespace, 'db', 1, node);
    await admin.networking.createNamespacedNetworkPolicy({
      namespace,
      body: {
        metadata: { name: 'allow-shop' },
        spec: { podSelector: { matchLabels: { app: 'shop' } }, ingress: [{}] },
      },
    });
    await runningPods(admin, namespace, 'app in (shop,db)', 3);
    // The deployment controller annotates the Deployment with its revision; the snapshots must not race it.
    await waitFor('the shop Deployment revision annotation', async () => {
      const deployment = await admin.apps.readNamespacedDeployment({ namespace, name: 'shop' });
      return deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'];
    });
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
    await deleteNode(admin, node);
  });

  it('recovery returns the namespace and node to their state before the incident', async () => {
    const before = await snapshot(admin, namespace, node);
    const [suspect] = await runningPods(admin, namespace, 'app=shop', 2);
    const incidentId = incident();
    const pod = suspect?.metadata?.name ?? '';
    const resolved = await run.activities.resolveTarget({ incidentId, namespace, pod });
    expect(resolved).toMatchObject({
      status: 'resolved',
      target: { node, workload: { kind: 'Deployment', name: 'shop' } },
    });

    const quarantine = await run.activities.quarantinePod({ incidentId, namespace, pod, dryRun: false });
    const cordon = await run.activities.cordonNode({ incidentId, node, dryRun: false });
    const scale = await run.activities.scaleWorkload({
      incidentId,
      namespace,
      kind: 'StatefulSet',
      name: 'db',
      replicas: 0,
      dryRun: false,
    });
    const pause = await run.activities.pauseRollout({ incidentId, namespace, name: 'shop', dryRun: false });

    expect(quarantine).toMatchObject({ isolation: 'incomplete', allowingPolicies: ['allow-shop'] });
    expect(cordon).toEqual({ wasUnschedulable: false });
    expect(scale).toMatchObject({ previousReplicas: 1, replicas: 0 });
    expect(pause).toMatchObject({ wasPaused: false });
    const during = await snapshot(admin, namespace, node);
    expect(during).not.toEqual(before);

    await run.activities.resumeRollout({ incidentId, namespace, name: 'shop', dryRun: false });
    const replicas = scale.previousReplicas;
    await run.activities.scaleWorkload({
      incidentId,
      namespace,
      kind: 'StatefulSet',
      name: 'db',
      replicas,
      dryRun: false,
    });
    await run.activities.uncordonNode({ incidentId, node, dryRun: false });
    await run.activities.releasePodQuarantine({ incidentId, namespace, pod, dryRun: false });
    await runningPods(admin, namespace, 'app in (shop,db)', 3);

    expectSameState(await snapshot(admin, namespace, node), before);
  });

  it('an incident in dry-run mode changes no object', async () => {
    const before = await snapshot(admin, namespace, node);
    const dry = createKubernetesActivities({ kubeConfig, forceDryRun: true });
    const incidentId = incident();
    const [suspect] = await runningPods(admin, namespace, 'app=shop', 2);
    const pod = suspect?.metadata?.name ?? '';

    const quarantine = await dry.quarantinePod({ incidentId, namespace, pod, dryRun: false });
    await dry.detachPod({ incidentId, namespace, pod, dryRun: false });
    await dry.cordonNode({ incidentId, node, dryRun: false });
    await dry.scaleWorkload({ incidentId, namespace, kind: 'Deployment', name: 'shop', replicas: 0, dryRun: false });
    await dry.pauseRollout({ incidentId, namespace, name: 'shop', dryRun: false });
    const drain = await dry.drainNode({ incidentId, node, gracePeriodSec: 0, deadlineMs: 2000, dryRun: false });
    const deleted = await dry.deletePod({ incidentId, namespace, pod, dryRun: false });

    expect(quarantine.dryRun).toBe(true);
    expect(drain.evicted.length).toBe(3);
    expect(deleted).toMatchObject({ deleted: true, dryRun: true });
    expectSameState(await snapshot(admin, namespace, node), before);
  });

  it('sent only scoped requests with named patch types', () => {
    expect(unscopedRequests(run.records)).toEqual([]);
    expect(patchesWithoutType(run.records)).toEqual([]);
  });
});
