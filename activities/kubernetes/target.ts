import type { V1ObjectMeta, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import type { ResolveTargetInput, ResolveTargetResult, TargetRef } from '../../domain/response';
import { callKubeUnlessNotFound, type KubeClients } from './client';
import { parseInput, resolveTargetInputSchema } from './inputs';
import { listNamespaces, listPodsOnNode } from './pods';

type Owner = TargetRef['owners'][number];

/** Kinds that count as the pod's workload, from the pod upwards. */
const WORKLOAD_KINDS = new Set(['ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);

/** Maximum owner chain followed. Built-in chains are at most two long: ReplicaSet -> Deployment, Job -> CronJob. */
const MAX_OWNER_DEPTH = 4;

/**
 * Finds the pod an alert points at, from its namespace and name or from a container id on a node, and
 * walks its controller owners. Returns `unresolved` with a reason, never a guess, when the pod cannot be
 * named exactly. A pod name without a namespace is not searched for across namespaces.
 */
export async function resolveTarget(clients: KubeClients, raw: ResolveTargetInput): Promise<ResolveTargetResult> {
  const input = parseInput(resolveTargetInputSchema, raw, 'resolveTarget');
  let pod: V1Pod | undefined;
  if (input.namespace && input.pod) {
    pod = await readPodIfExists(clients, input.namespace, input.pod);
    if (!pod) return { status: 'unresolved', reason: `pod ${input.namespace}/${input.pod} was not found` };
  } else if (input.containerId && input.node) {
    const found = await findPodByContainer(clients, input.containerId, input.node, input.namespace);
    if (found.length !== 1) {
      const reason = found.length === 0 ? 'no pod' : `${found.length} pods`;
      return { status: 'unresolved', reason: `${reason} on node ${input.node} ran container ${input.containerId}` };
    }
    pod = found[0];
  } else {
    return {
      status: 'unresolved',
      reason: 'the alert names neither a namespace and pod nor a container id and node, so no pod can be resolved',
    };
  }
  if (!pod) return { status: 'unresolved', reason: 'the pod could not be read' };
  return { status: 'resolved', target: await targetRef(clients, pod) };
}

async function readPodIfExists(clients: KubeClients, namespace: string, name: string): Promise<V1Pod | undefined> {
  return callKubeUnlessNotFound(`read pod ${namespace}/${name}`, () =>
    clients.core.readNamespacedPod({ namespace, name }),
  );
}

/** Lists the pods on a node namespace by namespace (never across all namespaces) and matches the container id. */
async function findPodByContainer(
  clients: KubeClients,
  containerId: string,
  node: string,
  namespace: string | undefined,
): Promise<V1Pod[]> {
  const shortId = containerId.replace(/^[a-z0-9-]+:\/\//, '');
  const namespaces = namespace ? [namespace] : await listNamespaces(clients);
  const pods = await listPodsOnNode(clients, node, namespaces);
  return pods.filter((pod) => runsContainer(pod, shortId));
}

function runsContainer(pod: V1Pod, shortId: string): boolean {
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  return statuses.some((status) => (status.containerID ?? '').replace(/^[a-z0-9-]+:\/\//, '').startsWith(shortId));
}

async function targetRef(clients: KubeClients, pod: V1Pod): Promise<TargetRef> {
  const namespace = pod.metadata?.namespace ?? '';
  const owners = await walkOwners(clients, namespace, pod.metadata);
  const top = [...owners].reverse().find((owner) => WORKLOAD_KINDS.has(owner.kind));
  const imageIds = new Map((pod.status?.containerStatuses ?? []).map((status) => [status.name, status.imageID]));
  return {
    namespace,
    pod: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    resourceVersion: pod.metadata?.resourceVersion ?? '',
    node: pod.spec?.nodeName,
    serviceAccount: pod.spec?.serviceAccountName,
    owners,
    workload: top ? { kind: top.kind, name: top.name } : undefined,
    images: (pod.spec?.containers ?? []).map((container) => ({
      container: container.name,
      image: container.image ?? '',
      imageID: imageIds.get(container.name) || undefined,
    })),
    labels: pod.metadata?.labels ?? {},
  };
}

/** Follows controller owner references upwards; stops at an unknown kind or an owner that no longer exists. */
async function walkOwners(clients: KubeClients, namespace: string, meta: V1ObjectMeta | undefined): Promise<Owner[]> {
  const owners: Owner[] = [];
  let reference = controllerOf(meta);
  while (reference && owners.length < MAX_OWNER_DEPTH) {
    owners.push({ kind: reference.kind, name: reference.name, uid: reference.uid });
    const ownerMeta = await readOwnerMeta(clients, namespace, reference);
    reference = controllerOf(ownerMeta);
  }
  return owners;
}

/**
 * Returns the owner reference marked `controller: true`. Anyone who can create a pod can add plain owner
 * references to any object they can name, so an object without a controller reference counts as standalone.
 */
function controllerOf(meta: V1ObjectMeta | undefined): V1OwnerReference | undefined {
  return (meta?.ownerReferences ?? []).find((reference) => reference.controller === true);
}

async function readOwnerMeta(
  clients: KubeClients,
  namespace: string,
  owner: V1OwnerReference,
): Promise<V1ObjectMeta | undefined> {
  const request = { namespace, name: owner.name };
  const read = ownerReader(clients, owner.kind);
  if (!read) return undefined;
  const object = await callKubeUnlessNotFound(`read ${owner.kind} ${namespace}/${owner.name}`, () => read(request));
  return object?.metadata?.uid === owner.uid ? object.metadata : undefined;
}

type OwnerReader = (request: { namespace: string; name: string }) => Promise<{ metadata?: V1ObjectMeta }>;

function ownerReader(clients: KubeClients, kind: string): OwnerReader | undefined {
  const readers: Record<string, OwnerReader> = {
    ReplicaSet: (request) => clients.apps.readNamespacedReplicaSet(request),
    Deployment: (request) => clients.apps.readNamespacedDeployment(request),
    StatefulSet: (request) => clients.apps.readNamespacedStatefulSet(request),
    DaemonSet: (request) => clients.apps.readNamespacedDaemonSet(request),
    Job: (request) => clients.batch.readNamespacedJob(request),
    CronJob: (request) => clients.batch.readNamespacedCronJob(request),
  };
  return readers[kind];
}
