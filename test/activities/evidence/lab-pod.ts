import {
  AppsV1Api,
  CoreV1Api,
  NetworkingV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TargetRef } from '../../../domain/response';

export interface LabWorkload {
  namespace: string;
  pod: V1Pod;
  target: TargetRef;
}

/**
 * Creates a namespace with a Deployment (one pod on a kwok node), a service account bound to a Role, one
 * NetworkPolicy that selects the pod and one that does not, and waits for the pod to run.
 */
export async function createLabWorkload(kubeConfig: KubeConfig, containers = ['app']): Promise<LabWorkload> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const namespace = `evidence-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'checkout' } } });
  await createAccessObjects(kubeConfig, namespace);

  const labels = { app: 'checkout', tier: 'web' };
  await kubeConfig.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'checkout', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeName: 'kwok-node-0',
            serviceAccountName: 'checkout',
            containers: containers.map((name) => ({
              name,
              image: 'registry.example/shop/checkout:1.4.2',
              env: [
                { name: 'LOG_LEVEL', value: 'info' },
                { name: 'PAYMENT_API_TOKEN', valueFrom: { secretKeyRef: { name: 'payment', key: 'token' } } },
                { name: 'UPSTREAM_ID', valueFrom: { secretKeyRef: { name: 'payment', key: 'upstream' } } },
              ],
            })),
          },
        },
      },
    },
  });
  const pod = await waitForRunningPod(core, namespace, 'app=checkout');
  return { namespace, pod, target: targetOf(pod) };
}

async function createAccessObjects(kubeConfig: KubeConfig, namespace: string): Promise<void> {
  const rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: 'read-config' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'checkout-read-config' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-config' },
      subjects: [{ kind: 'ServiceAccount', name: 'checkout', namespace }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'other-read-config' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-config' },
      subjects: [{ kind: 'ServiceAccount', name: 'other', namespace }],
    },
  });
  const networking = kubeConfig.makeApiClient(NetworkingV1Api);
  await networking.createNamespacedNetworkPolicy({
    namespace,
    body: {
      metadata: { name: 'web-ingress' },
      spec: { podSelector: { matchLabels: { tier: 'web' } }, policyTypes: ['Ingress'] },
    },
  });
  await networking.createNamespacedNetworkPolicy({
    namespace,
    body: {
      metadata: { name: 'db-only' },
      spec: { podSelector: { matchLabels: { tier: 'db' } }, policyTypes: ['Ingress'] },
    },
  });
}

export async function waitForRunningPod(core: CoreV1Api, namespace: string, labelSelector: string): Promise<V1Pod> {
  const deadlineMs = Date.now() + 30_000;
  while (Date.now() < deadlineMs) {
    const pods = await core.listNamespacedPod({ namespace, labelSelector });
    const running = pods.items.find((pod) => pod.status?.phase === 'Running');
    if (running) return running;
    await sleep(200);
  }
  throw new Error(`no pod matching ${labelSelector} in ${namespace} was Running within 30 s`);
}

export function targetOf(pod: V1Pod): TargetRef {
  const metadata = pod.metadata ?? {};
  return {
    namespace: metadata.namespace ?? '',
    pod: metadata.name ?? '',
    uid: metadata.uid ?? '',
    resourceVersion: metadata.resourceVersion ?? '',
    node: pod.spec?.nodeName,
    serviceAccount: pod.spec?.serviceAccountName,
    owners: (metadata.ownerReferences ?? []).map((owner) => ({ kind: owner.kind, name: owner.name, uid: owner.uid })),
    workload: { kind: 'Deployment', name: 'checkout' },
    images: (pod.spec?.containers ?? []).map((container) => ({
      container: container.name,
      image: container.image ?? '',
    })),
    labels: metadata.labels ?? {},
  };
}

export async function deleteNamespace(kubeConfig: KubeConfig, namespace: string): Promise<void> {
  await kubeConfig
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name: namespace })
    .catch(() => undefined);
}
