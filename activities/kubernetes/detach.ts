import type { V1LabelSelector, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import type { DetachPodResult, PodActionInput, ReattachPodInput } from '../../domain/response';
import { controllersSelecting, type SelectingController } from './adoption';
import { callKube, callKubeUnlessNotFound, dryRunParam, mergePatch, retryOnConflict, type KubeClients } from './client';
import { parseInput, podActionInputSchema, reattachPodInputSchema } from './inputs';
import { DETACHED_ANNOTATION, selectorKeys, selectorMatches } from './labels';
import { readTargetPod } from './pods';

export interface DetachResult extends DetachPodResult {
  controller?: { kind: string; name: string };
  /** Services in the namespace that selected the pod and no longer do. */
  services: string[];
  /**
   * True when the controller will start a clean replacement: ReplicaSets, DaemonSets and Jobs do. A
   * StatefulSet does not, because the detached pod keeps the name its replacement would need.
   */
  replacementExpected: boolean;
  /**
   * Controllers in the namespace whose selector matches the labels the pod would keep, so one of them would
   * adopt it. When present the pod was left unchanged and `removedLabels` is empty.
   */
  detachUnsafe?: SelectingController[];
}

/** The annotation stores the whole result, so a retried call returns what the first call saw. */
const detachedRecordSchema = z.object({
  incidentId: z.string(),
  removedLabels: z.record(z.string(), z.string()),
  controller: z.object({ kind: z.string(), name: z.string() }).optional(),
  services: z.array(z.string()),
  replacementExpected: z.boolean(),
});

/** Labels that detaching a pod removes, because its controller or its Services select on them. */
export interface DetachPlan {
  controllerRef: V1OwnerReference | undefined;
  removedLabels: Record<string, string>;
  services: string[];
}

/** Works out which of the pod's labels its controller and the Services that select it depend on. */
export async function planDetach(clients: KubeClients, namespace: string, pod: V1Pod): Promise<DetachPlan> {
  const labels = pod.metadata?.labels ?? {};
  const controllerRef = pod.metadata?.ownerReferences?.find((reference) => reference.controller === true);
  const controllerSelector = controllerRef ? await readSelector(clients, namespace, controllerRef) : undefined;
  const services = await selectingServices(clients, namespace, labels);
  const keys = new Set([...selectorKeys(controllerSelector), ...services.flatMap((service) => service.keys)]);
  const removedLabels = Object.fromEntries(Object.entries(labels).filter(([key]) => keys.has(key)));
  return { controllerRef, removedLabels, services: services.map((service) => service.name) };
}

/** Returns the pod's labels without the ones the plan removes. */
export function labelsAfterDetach(pod: V1Pod, plan: DetachPlan): Record<string, string> {
  const labels = pod.metadata?.labels ?? {};
  return Object.fromEntries(Object.entries(labels).filter(([key]) => !(key in plan.removedLabels)));
}

/**
 * Detaches a pod from its controller and Services by removing the labels they select on, so the controller
 * starts a clean replica and traffic stops while the suspect pod stays for forensics. The removed labels
 * are kept in an annotation on the pod, so a retried call returns the same labels. Before changing anything
 * it checks that no other controller in the namespace selects the labels the pod keeps, because a pod that
 * another controller adopts is no longer kept for forensics. When one does, the pod is left as it is and the
 * result names that controller in `detachUnsafe`.
 */
export async function detachPod(
  clients: KubeClients,
  raw: PodActionInput & { podUid?: string },
): Promise<DetachResult> {
  const input = parseInput(podActionInputSchema, raw, 'detachPod');
  return retryOnConflict(() => detachOnce(clients, input));
}

async function detachOnce(clients: KubeClients, input: z.infer<typeof podActionInputSchema>): Promise<DetachResult> {
  const { incidentId, namespace, pod: name, dryRun } = input;
  const pod = await readTargetPod(clients, namespace, name, input.podUid);
  const earlier = detachedRecord(pod, incidentId);
  if (earlier) return earlier;
  const plan = await planDetach(clients, namespace, pod);
  const { controllerRef } = plan;
  const result: DetachResult = {
    removedLabels: plan.removedLabels,
    controller: controllerRef ? { kind: controllerRef.kind, name: controllerRef.name } : undefined,
    services: plan.services,
    replacementExpected: ['ReplicaSet', 'DaemonSet', 'Job'].includes(controllerRef?.kind ?? ''),
  };
  if (Object.keys(plan.removedLabels).length === 0) return result;

  const adopters = await controllersSelecting(clients, namespace, labelsAfterDetach(pod, plan));
  if (adopters.length > 0) return { ...result, removedLabels: {}, detachUnsafe: adopters };

  const nulls = Object.fromEntries(Object.keys(plan.removedLabels).map((key) => [key, null]));
  const record = JSON.stringify({ incidentId, ...result });
  const body = {
    metadata: {
      // The resourceVersion precondition also pins the uid checked above: a replacement has another version.
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

/**
 * Puts the labels that `detachPod` removed back on the pod and drops the record annotation. A pod that is
 * gone, or that has another uid than `podUid`, is left alone.
 */
export async function reattachPod(
  clients: KubeClients,
  raw: ReattachPodInput & { podUid?: string },
): Promise<ReattachResult> {
  const input = parseInput(reattachPodInputSchema, raw, 'reattachPod');
  const { namespace, pod: name, dryRun, labels } = input;
  const pod = await callKubeUnlessNotFound(`read pod ${namespace}/${name}`, () =>
    clients.core.readNamespacedPod({ namespace, name }),
  );
  const replaced = input.podUid !== undefined && pod?.metadata?.uid !== input.podUid;
  if (!pod || replaced) return { reattached: false, labels: {}, dryRun };
  const body = { metadata: { labels, annotations: { [DETACHED_ANNOTATION]: null } } };
  await callKube(`reattach pod ${namespace}/${name}`, () =>
    clients.core.patchNamespacedPod({ namespace, name, body, dryRun: dryRunParam(dryRun) }, mergePatch()),
  );
  return { reattached: true, labels, dryRun };
}
