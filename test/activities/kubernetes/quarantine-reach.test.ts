import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { testEnv } from '../../support/env';
import {
  adminClients,
  createNamespace,
  createPod,
  deleteNamespace,
  identities,
  kubeConfigOf,
  recordedActivities,
  runningPods,
} from './kube-lab';

const incident = () => `incident-${randomBytes(8).toString('hex')}`;

/**
 * A pod behind a Service that selects `app`, and three policies that allow traffic to it. `allow-app` selects
 * `app`, which detaching removes. `allow-frontend` selects `role`, which no controller or Service selects, so
 * the pod keeps it. `allow-all` has an empty pod selector and selects every pod.
 */
describe.each(identities)('quarantine reach of detach as %s', (identity) => {
  const admin = adminClients();
  const node = testEnv().kube.nodes[0] ?? 'kwok-node-0';
  let namespace = '';
  let run: ReturnType<typeof recordedActivities>;

  beforeAll(async () => {
    namespace = await createNamespace(admin, 'fb-reach');
    run = recordedActivities(await kubeConfigOf(identity, admin));
    await createPod(admin, namespace, 'web', { app: 'web', role: 'frontend' }, node);
    await admin.core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
    });
    const policies: V1NetworkPolicy[] = [
      { metadata: { name: 'allow-app' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}] } },
      {
        metadata: { name: 'allow-frontend' },
        spec: { podSelector: { matchLabels: { role: 'frontend' } }, ingress: [{}] },
      },
      { metadata: { name: 'allow-all' }, spec: { podSelector: {}, ingress: [{}] } },
    ];
    for (const body of policies) await admin.networking.createNamespacedNetworkPolicy({ namespace, body });
    await runningPods(admin, namespace, 'app=web', 1);
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
  });

  it('quarantinePod says which policies detaching closes', async () => {
    const incidentId = incident();
    const input = { incidentId, namespace, pod: 'web', dryRun: false };

    const result = await run.activities.quarantinePod(input);

    expect(result.isolation).toBe('incomplete');
    expect(result.allowingPolicies).toEqual(['allow-all', 'allow-app', 'allow-frontend']);
    expect(result.detachNeutralises).toEqual(['allow-app']);
    expect(result.detachCannotNeutralise).toEqual(['allow-all', 'allow-frontend']);

    const detached = await run.activities.detachPod(input);
    const again = await run.activities.quarantinePod(input);

    expect(detached.removedLabels).toEqual({ app: 'web' });
    expect(again.isolation).toBe('incomplete');
    expect(again.allowingPolicies).toEqual(['allow-all', 'allow-frontend']);
    expect(again.detachNeutralises).toEqual([]);
    await run.activities.reattachPod({ ...input, labels: detached.removedLabels });
    await run.activities.releasePodQuarantine(input);
    const labels = (await admin.core.readNamespacedPod({ namespace, name: 'web' })).metadata?.labels;
    expect(labels).toEqual({ app: 'web', role: 'frontend' });
  });
});
