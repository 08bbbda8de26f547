import { ApplicationFailure } from '@temporalio/common';
import type { DeletePodInput, DeletePodResult } from '../../domain/response';
import { callKubeUnlessNotFound, deleteOptions, dryRunParam, type KubeClients } from './client';
import { deletePodInputSchema, parseInput } from './inputs';

export interface DeleteResult extends DeletePodResult {
  /** The pod's controller; a ReplicaSet, StatefulSet, DaemonSet or Job starts a replacement. */
  controller?: { kind: string; name: string };
  /**
   * True when the pod was gone before this call, or when a pod with the same name but another uid has
   * replaced it (a StatefulSet replacement). `deleted` is then true and `standalone` false, because the
   * original pod can no longer be read.
   */
  alreadyGone: boolean;
  dryRun: boolean;
}

/**
 * Deletes one pod, standalone pods included, with a uid precondition so that a retried call never deletes
 * a replacement that took the same name. `uid` (or `podUid`) names the pod as it was resolved.
 */
export async function deletePod(clients: KubeClients, raw: DeletePodInput & { uid?: string }): Promise<DeleteResult> {
  const input = parseInput(deletePodInputSchema, raw, 'deletePod');
  const { namespace, pod: name, dryRun } = input;
  const gone: DeleteResult = { deleted: true, standalone: false, alreadyGone: true, dryRun };
  const pod = await callKubeUnlessNotFound(`read pod ${namespace}/${name}`, () =>
    clients.core.readNamespacedPod({ namespace, name }),
  );
  const uid = pod?.metadata?.uid;
  const expectedUid = input.uid ?? input.podUid;
  if (!pod || !uid || (expectedUid !== undefined && uid !== expectedUid)) return gone;

  const controllerRef = pod.metadata?.ownerReferences?.find((reference) => reference.controller === true);
  const body = deleteOptions(uid, dryRun, input.gracePeriodSec);
  const request = { namespace, name, gracePeriodSeconds: input.gracePeriodSec, dryRun: dryRunParam(dryRun), body };
  try {
    const result = await callKubeUnlessNotFound(`delete pod ${namespace}/${name}`, () =>
      clients.core.deleteNamespacedPod(request),
    );
    if (result === undefined) return gone;
  } catch (error) {
    // A 409 here is the uid precondition failing: the pod was replaced between the read and the delete.
    if (error instanceof ApplicationFailure && error.type === 'KubernetesConflict') return gone;
    throw error;
  }
  return {
    deleted: true,
    standalone: controllerRef === undefined,
    controller: controllerRef ? { kind: controllerRef.kind, name: controllerRef.name } : undefined,
    alreadyGone: false,
    dryRun,
  };
}
