import { AppsV1Api, CoreV1Api, type KubeConfig, type V1PodSpec } from '@kubernetes/client-node';
import { z } from 'zod';

export const demoNamespace = 'shop-prod';
export const demoPod = 'checkout-api-7c9d5f6b8-x2lqp';
export const demoDeployment = 'checkout-api';
const demoReplicaSet = 'checkout-api-7c9d5f6b8';
const demoImage = 'registry.example.internal/shop/checkout-api:1.14.2';
const appLabels = { app: 'checkout-api' };
const replicaSetLabels = { ...appLabels, 'pod-template-hash': '7c9d5f6b8' };
const replicas = 2;

const kubeErrorSchema = z.object({ code: z.number() });

/**
 * Creates the demo workload that the sample alerts name, in namespace `shop-prod`. The pod
 * `checkout-api-7c9d5f6b8-x2lqp` comes first, then the ReplicaSet `checkout-api-7c9d5f6b8` with two replicas
 * that adopts it, then the Deployment `checkout-api` that adopts the ReplicaSet, so a restore can roll the
 * Deployment out on a trusted image. The lab has no scheduler, so every pod template names the node. Existing
 * objects are left as they are. Resolves once the Deployment owns the ReplicaSet and both replicas run.
 */
export async function createDemoWorkload(config: KubeConfig, nodeName: string): Promise<void> {
  const core = config.makeApiClient(CoreV1Api);
  const apps = config.makeApiClient(AppsV1Api);
  const namespace = demoNamespace;
  await ignoreConflict(core.createNamespace({ body: { metadata: { name: namespace } } }));
  await waitFor(`the default ServiceAccount of namespace ${namespace}`, async () => {
    const accounts = await core.listNamespacedServiceAccount({ namespace });
    return accounts.items.some((account) => account.metadata?.name === 'default');
  });

  // The pod comes first and the ReplicaSet adopts it, so the pod keeps the name the sample alerts carry. The
  // Deployment controller takes a ReplicaSet whose pod template equals its own, the `pod-template-hash` label
  // aside, as its current one, so it adopts the ReplicaSet instead of starting a new one.
  const metadata = { name: demoPod, labels: replicaSetLabels };
  await ignoreConflict(core.createNamespacedPod({ namespace, body: { metadata, spec: podSpec(nodeName) } }));
  const replicaSetTemplate = { metadata: { labels: replicaSetLabels }, spec: podSpec(nodeName) };
  await ignoreConflict(
    apps.createNamespacedReplicaSet({
      namespace,
      body: {
        metadata: { name: demoReplicaSet, labels: replicaSetLabels },
        spec: { replicas, selector: { matchLabels: replicaSetLabels }, template: replicaSetTemplate },
      },
    }),
  );
  const template = { metadata: { labels: appLabels }, spec: podSpec(nodeName) };
  await ignoreConflict(
    apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: demoDeployment, labels: appLabels },
        spec: { replicas, selector: { matchLabels: appLabels }, template },
      },
    }),
  );
  await waitFor(
    `Deployment ${demoDeployment} to own ReplicaSet ${demoReplicaSet} with ${replicas} ready pods`,
    async () => {
      const replicaSet = await apps.readNamespacedReplicaSet({ namespace, name: demoReplicaSet });
      const owned = replicaSet.metadata?.ownerReferences?.some((owner) => owner.name === demoDeployment) ?? false;
      return owned && replicaSet.status?.readyReplicas === replicas;
    },
  );
}

function podSpec(nodeName: string): V1PodSpec {
  return { nodeName, containers: [{ name: 'checkout-api', image: demoImage, ports: [{ containerPort: 8080 }] }] };
}

/** Calls `check` every 200 ms until it returns true; throws after 60 s. An error counts as not yet. */
async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = ` (last error: ${error instanceof Error ? error.message : String(error)})`;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after 60 s waiting for ${what}${lastError}`);
}

async function ignoreConflict<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (kubeErrorSchema.safeParse(error).data?.code === 409) {
      return undefined;
    }
    throw error;
  }
}
