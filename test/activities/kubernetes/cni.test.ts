import { ApiextensionsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
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
  statusOf,
  unscopedRequests,
  waitFor,
} from './kube-lab';

const crdName = 'ciliumnetworkpolicies.cilium.io';

/**
 * The lab has no Cilium, so this file installs the CiliumNetworkPolicy CRD alone, without an agent that
 * enforces it. That is enough for API discovery to list the kind and for the quarantine to create and delete
 * its policy. The CRD is cluster-wide and other quarantine tests expect it absent, so this file relies on
 * the serial test run (`npm test` runs jest with --runInBand).
 */
describe('quarantinePod with the Cilium policy kind served', () => {
  const admin = adminClients();
  const extensions = admin.kubeConfig.makeApiClient(ApiextensionsV1Api);
  const custom = admin.kubeConfig.makeApiClient(CustomObjectsApi);
  const node = testEnv().kube.nodes[0] ?? 'kwok-node-0';
  let namespace = '';

  beforeAll(async () => {
    namespace = await createNamespace(admin, 'fb-cni');
    await createPod(admin, namespace, 'suspect', { app: 'shop' }, node);
    await runningPods(admin, namespace, 'app=shop', 1);
    await extensions.createCustomResourceDefinition({
      body: {
        metadata: { name: crdName },
        spec: {
          group: 'cilium.io',
          names: { kind: 'CiliumNetworkPolicy', plural: 'ciliumnetworkpolicies', singular: 'ciliumnetworkpolicy' },
          scope: 'Namespaced',
          versions: [
            {
              name: 'v2',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
            },
          ],
        },
      },
    });
    await waitFor('the CiliumNetworkPolicy CRD to be established', async () => {
      const crd = await extensions.readCustomResourceDefinition({ name: crdName });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, namespace);
    await extensions.deleteCustomResourceDefinition({ name: crdName }).catch(() => undefined);
  });

  it.each(identities)('quarantinePod as %s adds and removes a Cilium deny policy', async (identity) => {
    const run = recordedActivities(await kubeConfigOf(identity, admin));
    const incidentId = `incident-${randomBytes(8).toString('hex')}`;
    const input = { incidentId, namespace, pod: 'suspect', dryRun: false };

    const result = await run.activities.quarantinePod(input);
    const retried = await run.activities.quarantinePod(input);

    expect(retried).toEqual(result);
    expect(result.cniPolicies).toEqual([`cilium.io/CiliumNetworkPolicy/${result.policyName}`]);
    const target = { group: 'cilium.io', version: 'v2', namespace, plural: 'ciliumnetworkpolicies' };
    const policy: unknown = await custom.getNamespacedCustomObject({ ...target, name: result.policyName });
    expect(policy).toMatchObject({
      metadata: { labels: { 'firebreak.dev/incident': incidentId } },
      spec: {
        endpointSelector: { matchLabels: { [`quarantine.firebreak.dev/${incidentId.slice(9)}`]: incidentId } },
        ingressDeny: [{ fromEntities: ['all'] }],
        egressDeny: [{ toEntities: ['all'] }],
      },
    });

    const released = await run.activities.releasePodQuarantine(input);

    expect(released.deletedPolicies).toEqual([result.policyName, `cilium.io/CiliumNetworkPolicy/${result.policyName}`]);
    const readAfterRelease = await custom
      .getNamespacedCustomObject({ ...target, name: result.policyName })
      .catch(statusOf);
    expect(readAfterRelease).toBe(404);
    expect(unscopedRequests(run.records)).toEqual([]);
  });
});
