import { randomBytes } from 'node:crypto';
import {
  adminClients,
  container,
  createDeployment,
  createNamespace,
  createNode,
  createPod,
  deleteNamespace,
  deleteNode,
  identities,
  kubeConfigOf,
  recordedActivities,
  runningPods,
  statusOf,
  waitFor,
} from './kube-lab';
import { createDaemonSetPod, createMirrorPod } from './node-lab';

const incident = () => `incident-${randomBytes(8).toString('hex')}`;

/**
 * Next to a real DaemonSet pod and a real mirror pod, the node runs two pods that only look like them. Anyone
 * who can create a pod can write these: one has the mirror annotation alone, and one has a plain (not
 * controller) owner reference to an existing DaemonSet.
 */
describe.each(identities)('drainNode with look-alike pods as %s', (identity) => {
  const admin = adminClients();
  let node = '';
  let namespace = '';
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    node = await createNode(admin, 'fb-skip');
    namespace = await createNamespace(admin, 'fb-skip');
    run = recordedActivities(await kubeConfigOf(identity, admin));
    await createDaemonSetPod(admin, namespace, node);
    await createMirrorPod(admin, namespace, node);
    const agent = await admin.apps.readNamespacedDaemonSet({ namespace, name: 'agent' });
    const spec = { nodeName: node, containers: [container()] };
    await admin.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'fake-mirror', labels: { app: 'fake' }, annotations: { 'kubernetes.io/config.mirror': 'x' } },
        spec,
      },
    });
    const plainOwner = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: agent.metadata?.uid ?? '' };
    await admin.core.createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name: 'ds-claimer',
          labels: { app: 'fake' },
          ownerReferences: [{ ...plainOwner, controller: false }],
        },
        spec,
      },
    });
    await runningPods(admin, namespace, 'app in (agent,static,fake)', 4);
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
    await deleteNode(admin, node);
  });

  it('drainNode evicts pods that only look like daemon or mirror pods', async () => {
    const incidentId = incident();

    const result = await run.activities.drainNode({
      incidentId,
      node,
      gracePeriodSec: 0,
      deadlineMs: 10_000,
      dryRun: false,
    });

    expect(result.skipped).toEqual([`${namespace}/agent-0`, `${namespace}/static-${node}`]);
    expect(result.evicted).toEqual([`${namespace}/ds-claimer`, `${namespace}/fake-mirror`]);
    expect(result.blocked).toEqual([]);
    expect(result.complete).toBe(true);
    for (const name of ['ds-claimer', 'fake-mirror']) {
      expect({ name, status: await admin.core.readNamespacedPod({ namespace, name }).catch(statusOf) }).toEqual({
        name,
        status: 404,
      });
    }
    await run.activities.uncordonNode({ incidentId, node, dryRun: false });
  });
});

/** A pod whose eviction a budget refuses keeps the drain busy while another pod is placed on the node. */
describe.each(identities)('drainNode with a pod arriving as %s', (identity) => {
  const admin = adminClients();
  let node = '';
  let namespace = '';
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    node = await createNode(admin, 'fb-arrive');
    namespace = await createNamespace(admin, 'fb-arrive');
    run = recordedActivities(await kubeConfigOf(identity, admin));
    await createDeployment(admin, namespace, 'ledger', 1, node);
    await admin.policy.createNamespacedPodDisruptionBudget({
      namespace,
      body: { metadata: { name: 'ledger' }, spec: { maxUnavailable: 0, selector: { matchLabels: { app: 'ledger' } } } },
    });
    await runningPods(admin, namespace, 'app=ledger', 1);
    await waitFor('the ledger budget status', async () => {
      const budget = await admin.policy.readNamespacedPodDisruptionBudget({ namespace, name: 'ledger' });
      return budget.status?.observedGeneration === budget.metadata?.generation ? true : undefined;
    });
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
    await deleteNode(admin, node);
  });

  it('drainNode reports a pod placed on the node during the drain', async () => {
    const incidentId = incident();
    const draining = run.activities.drainNode({ incidentId, node, gracePeriodSec: 0, deadlineMs: 4000, dryRun: false });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await createPod(admin, namespace, 'late', { app: 'late' }, node);

    const result = await draining;

    expect(result.complete).toBe(false);
    expect(result.blocked.map((entry) => entry.pod)).toContain(`${namespace}/late`);
    expect(result.blocked.find((entry) => entry.pod === `${namespace}/late`)?.reason).toMatch(
      /^arrived on the node during the drain/,
    );
    await run.activities.uncordonNode({ incidentId, node, dryRun: false });
  });
});
