import type { V1Pod } from '@kubernetes/client-node';
import { callKube, type KubeClients } from './client';
import { permanentFailure } from './errors';

/** Names of all namespaces; node-wide work goes through them one by one instead of listing pods cluster-wide. */
export async function listNamespaces(clients: KubeClients): Promise<string[]> {
  const list = await callKube('list namespaces', () => clients.core.listNamespace());
  return list.items.flatMap((namespace) => (namespace.metadata?.name ? [namespace.metadata.name] : []));
}

/** Pods scheduled on a node, listed per namespace with a `spec.nodeName` field selector. */
export async function listPodsOnNode(clients: KubeClients, node: string, namespaces: string[]): Promise<V1Pod[]> {
  const pods: V1Pod[] = [];
  for (const namespace of namespaces) {
    const list = await callKube(`list pods of node ${node} in namespace ${namespace}`, () =>
      clients.core.listNamespacedPod({ namespace, fieldSelector: `spec.nodeName=${node}` }),
    );
    pods.push(...list.items);
  }
  return pods;
}

/** `namespace/name` of a pod, as reports show it. */
export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** Reads a pod; a missing pod is a non-retryable `KubernetesNotFound`. */
export function readPod(clients: KubeClients, namespace: string, name: string): Promise<V1Pod> {
  return callKube(`read pod ${namespace}/${name}`, () => clients.core.readNamespacedPod({ namespace, name }));
}

/**
 * Reads the pod an activity acts on. When `podUid` is given and the pod of that name has another uid, the
 * target was deleted and replaced by a pod that took its name, so the call fails with a non-retryable
 * `TargetReplaced` instead of acting on the replacement.
 */
export async function readTargetPod(
  clients: KubeClients,
  namespace: string,
  name: string,
  podUid: string | undefined,
): Promise<V1Pod> {
  const pod = await readPod(clients, namespace, name);
  if (podUid !== undefined && pod.metadata?.uid !== podUid) throw targetReplaced(namespace, name, podUid, pod);
  return pod;
}

export function targetReplaced(namespace: string, name: string, podUid: string, pod: V1Pod | undefined) {
  return permanentFailure(
    'TargetReplaced',
    `pod ${namespace}/${name} now has uid ${pod?.metadata?.uid ?? '(none)'}, not ${podUid} as resolved: ` +
      'the target was replaced by another pod with its name and was left alone; resolve the target again',
    { namespace, pod: name, expectedUid: podUid, uid: pod?.metadata?.uid },
  );
}
