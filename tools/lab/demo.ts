import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

export const demoNamespace = 'shop-prod';
export const demoPod = 'checkout-api-7c9d5f6b8-x2lqp';
const demoReplicaSet = 'checkout-api-7c9d5f6b8';
const demoImage = 'registry.example.internal/shop/checkout-api:1.14.2';
const labels = { app: 'checkout-api', 'pod-template-hash': '7c9d5f6b8' };

/**
 * Creates the demo workload that the sample alert names: namespace `shop-prod`, ReplicaSet
 * `checkout-api-7c9d5f6b8` with two replicas, one of them the pod `checkout-api-7c9d5f6b8-x2lqp`.
 * Existing objects are left as they are.
 */
export async function createDemoWorkload(config: KubeConfig, nodeName: string): Promise<void> {
  const core = config.makeApiClient(CoreV1Api);
  const apps = config.makeApiClient(AppsV1Api);
  await ignoreConflict(core.createNamespace({ body: { metadata: { name: demoNamespace } } }));
  await waitForDefaultServiceAccount(core);

  const podSpec = {
    nodeName,
    containers: [{ name: 'checkout-api', image: demoImage, ports: [{ containerPort: 8080 }] }],
  };
  // The pod is created first and the ReplicaSet adopts it, so the controller never counts three pods and
  // deletes the one the sample alert names.
  await ignoreConflict(
    core.createNamespacedPod({
      namespace: demoNamespace,
      body: { metadata: { name: demoPod, labels }, spec: podSpec },
    }),
  );
  await ignoreConflict(
    apps.createNamespacedReplicaSet({
      namespace: demoNamespace,
      body: {
        metadata: { name: demoReplicaSet, labels },
        spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec } },
      },
    }),
  );
}

async function waitForDefaultServiceAccount(core: CoreV1Api): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const accounts = await core.listNamespacedServiceAccount({ namespace: demoNamespace });
    if (accounts.items.some((account) => account.metadata?.name === 'default')) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the default ServiceAccount of namespace ${demoNamespace} did not appear within 30 s`);
}

async function ignoreConflict<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if ((error as { code?: number }).code === 409) {
      return undefined;
    }
    throw error;
  }
}
