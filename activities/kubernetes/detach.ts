import type { V1LabelSelector, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import type { DetachPodResult, PodActionInput, ReattachPodInput } from '../../domain/response';
import { callKube, callKubeUnlessNotFound, dryRunParam, mergePatch, retryOnConflict, type KubeClients } from './client';
import { parseInput, podActionInputSchema, reattachPodInputSchema } from './inputs';
import { DETACHED_ANNOTATION, selectorKeys, selectorMatches } from './labels';
import { readPod } from './pods';

export interface DetachResult extends DetachPodResult {
  controller?: { kind: string; name: string };
  /** Services in the namespace that selected the pod and no longer do. */
  services: string[];
  /**
   * True when the controller will start a clean replacement: ReplicaSets, DaemonSets and Jobs do. A
   * StatefulSet does not, because the detached pod keeps the name its replacement would need.
   */
  replacementExpected: boolean;
}

/** The annotation stores the whole result, so a retried call returns what the first call saw. */
const detachedRecordSchema = z.object({
  incidentId: z.string(),
  removedLabels: z.record(z.string(), z.string()),
  controller: z.object({ kind: z.string(), name: z.string() }).optional(),
  services: z.array(z.string()),
  replacementExpected: z.boolean(),
});

/**
 * Detaches a pod from its controller and Services by removing the labels they select on, so the controller
 * starts a clean replica and traffic stops while the suspect pod stays for forensics. The removed labels
 * are kept in an annotation on the pod, so a retried call returns the same labels.
 */
export async function detachPod(clients: KubeClients, raw: PodActionInput): Promise<DetachResult> {
  const input = parseInput(podActionInputSchema, raw, 'detachPod');
  return retryOnConflict(() => detachOnce(clients, input));
}

async function detachOnce(clients: KubeClients, input: PodActionInput): Promise<DetachResult> {
  const { incidentId, namespace, pod: name, dryRun } = input;
  const pod = await readPod(clients, namespace, name);
  const earlier = detachedRecord(pod, incidentId);
  if (earlier) return earlier;
  const labels = pod.metadata?.labels ?? {};
  const controllerRef = pod.metadata?.ownerReferences?.find((reference) => reference.controller);
  const controllerSelector = controllerRef ? await readSelector(clients, namespace, controllerRef) : undefined;
  const services = await selectingServices(clients, namespace, labels);

  const keys = new Set([...selectorKeys(controllerSelector), ...services.flatMap((service) => service.keys)]);
  const removed = Object.fromEntries(Object.entries(labels).filter(([key]) => keys.has(key)));
  const result: DetachResult = {
    removedLabels: removed,
    controller: controllerRef ? { kind: controllerRef.kind, name: controllerRef.name } : undefined,
    services: services.map((service) => service.name),
    replacementExpected: ['ReplicaSet', 'DaemonSet', 'Job'].includes(controllerRef?.kind ?? ''),
  };
  if (Object.keys(removed).length === 0) return result;

  const nulls = Object.fromEntries(Object.keys(removed).map((key) => [key, null]));
  const record = JSON.stringify({ incidentId, ...result });
  const body = {
    metadata: {
      resourceVersion: pod.metadata?.resourceVersion,
      labels: nulls,
      annotations: { [DETACHED_ANNOTATION]: record },
    },
  };
  await callKube(`detach pod ${namespace}/${name}`, () =>
    clients.core.patchNamespacedPod({ namespace, name, body, dryRun: dryRunParam(dryRun) }, mergePatch()),
  );
  return result;
}

function detachedRecord(pod: V1Pod, incidentId: string): DetachResult | undefined {
  const text = pod.metadata?.annotations?.[DETACHED_ANNOTATION];
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = detachedRecordSchema.safeParse(value);
  if (!parsed.success || parsed.data.incidentId !== incidentId) return undefined;
  const { incidentId: _incidentId, ...result } = parsed.data;
  return result;
}

async function readSelector(
  clients: KubeClients,
  namespace: string,
  owner: V1OwnerReference,
): Promise<V1LabelSelector | undefined> {
  const request = { namespace, name: owner.name };
  const what = `read ${owner.kind} ${namespace}/${owner.name}`;
  const readers: Record<string, () => Promise<{ spec?: { selector?: V1LabelSelector } }>> = {
    ReplicaSet: () => clients.apps.readNamespacedReplicaSet(request),
    StatefulSet: () => clients.apps.readNamespacedStatefulSet(request),
    DaemonSet: () => clients.apps.readNamespacedDaemonSet(request),
    Job: () => clients.batch.readNamespacedJob(request),
  };
  const read = readers[owner.kind];
  if (!read) return undefined;
  const object = await callKubeUnlessNotFound(what, read);
  return object?.spec?.selector;
}

async function selectingServices(clients: KubeClients, namespace: string, labels: Record<string, string>) {
  const list = await callKube(`list Services in namespace ${namespace}`, () =>
    clients.core.listNamespacedService({ namespace }),
  );
  return list.items
    .filter((service) => Object.keys(service.spec?.selector ?? {}).length > 0)
    .filter((service) => selectorMatches({ matchLabels: service.spec?.selector }, labels))
    .map((service) => ({ name: service.metadata?.name ?? '', keys: Object.keys(service.spec?.selector ?? {}) }));
}

export interface ReattachResult {
  reattached: boolean;
  labels: Record<string, string>;
  dryRun: boolean;
}

/** Puts the labels that `detachPod` removed back on the pod and drops the record annotation. */
export async function reattachPod(clients: KubeClients, raw: ReattachPodInput): Promise<ReattachResult> {
  const input = parseInput(reattachPodInputSchema, raw, 'reattachPod');
  const { namespace, pod: name, dryRun, labels } = input;
  const pod = await callKubeUnlessNotFound(`read pod ${namespace}/${name}`, () =>
    clients.core.readNamespacedPod({ namespace, name }),
  );
  if (!pod) return { reattached: false, labels: {}, dryRun };
  const body = { metadata: { labels, annotations: { [DETACHED_ANNOTATION]: null } } };
  await callKube(`reattach pod ${namespace}/${name}`, () =>
    clients.core.patchNamespacedPod({ namespace, name, body, dryRun: dryRunParam(dryRun) }, mergePatch()),
  );
  return { reattached: true, labels, dryRun };
}
