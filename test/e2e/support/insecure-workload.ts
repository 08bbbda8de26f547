import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from './workload';

export const insecureDeployment = 'orders-api';
export const insecureContainer = 'orders';
export const insecureImage = 'registry.example.internal/shop/orders-api:2.3.0';
/** The image that the restore gate approves: the same repository, pinned by digest. */
export const trustedOrdersImage = `registry.example.internal/shop/orders-api@sha256:${'4e'.repeat(32)}`;
/** Capabilities that the container adds, as the hardening finding names them. */
export const addedCapabilities = ['NET_ADMIN', 'SYS_PTRACE'];

/**
 * Hardening findings of the container below, by finding id: it runs as user 0, adds capabilities, keeps a
 * writable root filesystem, names its image by tag and sets no limits. It is not privileged, forbids privilege
 * escalation and shares no host namespace or path, so those findings must be absent.
 */
export const expectedFindings = [
  'runsAsRoot',
  'addedCapabilities',
  'writableRootFilesystem',
  'imageWithoutDigest',
  'missingResourceLimits',
];
export const absentFindings = ['privileged', 'privilegeEscalation', 'hostPID', 'hostNetwork', 'hostIPC', 'hostPath'];

const labels = { app: insecureDeployment };

function container(): V1Container {
  return {
    name: insecureContainer,
    image: insecureImage,
    ports: [{ containerPort: 8080 }],
    securityContext: {
      runAsUser: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      capabilities: { add: addedCapabilities },
    },
  };
}

/**
 * Creates a namespace with a one-replica Deployment whose pod has the hardening problems listed in
 * `expectedFindings`, and resolves with the running pod that the Deployment's ReplicaSet created.
 */
export async function createInsecureWorkload(config: KubeConfig, namespace: string, nodeName: string): Promise<V1Pod> {
  const core = config.makeApiClient(CoreV1Api);
  const apps = config.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await waitFor(`the default ServiceAccount of ${namespace}`, async () => {
    const accounts = await core.listNamespacedServiceAccount({ namespace });
    return accounts.items.some((account) => account.metadata?.name === 'default') || undefined;
  });
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: insecureDeployment, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { nodeName, containers: [container()] } },
      },
    },
  });
  return waitFor(`a running pod of Deployment ${insecureDeployment}`, async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${insecureDeployment}` });
    return pods.items.find((pod) => pod.status?.phase === 'Running' && pod.metadata?.deletionTimestamp === undefined);
  });
}
