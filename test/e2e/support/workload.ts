import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod, type V1PodTemplateSpec } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { demoPod } from '../../../tools/lab/demo';

export const checkoutDeployment = 'checkout-api';
export const checkoutReplicaSet = 'checkout-api-7c9d5f6b8';
export const checkoutImage = 'registry.example.internal/shop/checkout-api:1.14.2';
const appLabels = { app: 'checkout-api' };
const replicaSetLabels = { ...appLabels, 'pod-template-hash': '7c9d5f6b8' };

/** The checkout workload of the demo, as the test creates it. */
export interface CheckoutWorkload {
  namespace: string;
  /** The pod that the sample alerts name. */
  pod: V1Pod;
}

function template(nodeName: string, labels: Record<string, string>): V1PodTemplateSpec {
  return {
    metadata: { labels },
    spec: {
      nodeName,
      containers: [{ name: 'checkout-api', image: checkoutImage, ports: [{ containerPort: 8080 }] }],
    },
  };
}

/**
 * Creates the demo workload in its own namespace: the pod `checkout-api-7c9d5f6b8-x2lqp`, the ReplicaSet
 * `checkout-api-7c9d5f6b8` with two replicas that adopts it, and the Deployment `checkout-api` that adopts the
 * ReplicaSet. The Deployment controller takes an existing ReplicaSet whose pod template equals its own (the
 * `pod-template-hash` label aside) as its current one, so the pod keeps the name that the alerts carry, and a
 * restore can roll the Deployment out on a new image. Resolves once both replicas run.
 */
export async function createCheckoutWorkload(
  config: KubeConfig,
  namespace: string,
  nodeName: string,
): Promise<CheckoutWorkload> {
  const core = config.makeApiClient(CoreV1Api);
  const apps = config.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await waitFor(`the default ServiceAccount of ${namespace}`, async () => {
    const accounts = await core.listNamespacedServiceAccount({ namespace });
    return accounts.items.some((account) => account.metadata?.name === 'default') || undefined;
  });

  await core.createNamespacedPod({
    namespace,
    body: { metadata: { name: demoPod, labels: replicaSetLabels }, spec: template(nodeName, replicaSetLabels).spec },
  });
  await apps.createNamespacedReplicaSet({
    namespace,
    body: {
      metadata: { name: checkoutReplicaSet, labels: replicaSetLabels },
      spec: {
        replicas: 2,
        selector: { matchLabels: replicaSetLabels },
        template: template(nodeName, replicaSetLabels),
      },
    },
  });
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: checkoutDeployment, labels: appLabels },
      spec: { replicas: 2, selector: { matchLabels: appLabels }, template: template(nodeName, appLabels) },
    },
  });

  await waitFor(`ReplicaSet ${checkoutReplicaSet} owned by Deployment ${checkoutDeployment}`, async () => {
    const replicaSet = await apps.readNamespacedReplicaSet({ namespace, name: checkoutReplicaSet });
    const owned = replicaSet.metadata?.ownerReferences?.some((owner) => owner.name === checkoutDeployment);
    return (owned && replicaSet.status?.readyReplicas === 2) || undefined;
  });
  const replicaSets = await apps.listNamespacedReplicaSet({ namespace });
  if (replicaSets.items.length !== 1) {
    const names = replicaSets.items.map((item) => item.metadata?.name).join(', ');
    throw new Error(`Deployment ${checkoutDeployment} did not adopt ${checkoutReplicaSet}: ReplicaSets ${names}`);
  }
  const pod = await waitFor(`pod ${demoPod} running`, async () => {
    const read = await core.readNamespacedPod({ namespace, name: demoPod });
    return read.status?.phase === 'Running' ? read : undefined;
  });
  return { namespace, pod };
}

/** Calls `read` every 250 ms until it returns a value. An error counts as no value yet. */
export async function waitFor<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(250);
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
}
