import type { V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import type { PodActionInput, QuarantinePodInput, QuarantinePodResult } from '../../domain/response';
import {
  callKube,
  callKubeUnlessNotFound,
  deleteOptions,
  dryRunParam,
  retryOnConflict,
  type KubeClients,
} from './client';
import { deleteCniPolicies, ensureCniPolicies, servedCniPolicyKinds } from './cni';
import { workflowRunId } from './context';
import { labelsAfterDetach, planDetach } from './detach';
import { parseInput, podActionInputSchema, quarantinePodInputSchema } from './inputs';
import { quarantineLabels, quarantinePolicyName } from './labels';
import { allowingPolicies, detachReach, quarantinePolicy } from './network-policy';
import { createOwned, deleteOwned, type OwnedObject } from './owned';
import { readTargetPod } from './pods';
import { addQuarantineLabels, removeQuarantineLabels } from './quarantine-labels';

export interface QuarantineResult extends QuarantinePodResult {
  /** Cilium or Calico policies added next to the NetworkPolicy, as `group/Kind/name`. */
  cniPolicies: string[];
  /** Allowing policies that would stop selecting the pod once `detachPod` removes its controller and Service labels. */
  detachNeutralises: string[];
  /** Allowing policies that would still select the pod after `detachPod`: they select on other labels, or on all pods. */
  detachCannotNeutralise: string[];
}

/**
 * Isolates one pod. It first creates a NetworkPolicy that selects only this incident's own quarantine label
 * and denies all ingress and all egress outside the allow-list, plus Cilium or Calico policies where the
 * cluster serves them. Only then does it put that label on the pod, so a failure never leaves a labelled pod
 * without its policy. Finally it lists every NetworkPolicy in the namespace. Any other policy that selects
 * the pod and allows traffic keeps it reachable, so the result is then `incomplete` and names those policies,
 * split by whether `detachPod` would stop each of them from selecting the pod.
 */
export async function quarantinePod(
  clients: KubeClients,
  raw: QuarantinePodInput & { podUid?: string },
): Promise<QuarantineResult> {
  const input = parseInput(quarantinePodInputSchema, raw, 'quarantinePod');
  const { incidentId, namespace, pod: name, dryRun } = input;
  const pod = await readTargetPod(clients, namespace, name, input.podUid);

  const allowEgress = input.allowEgress ?? [];
  const policy = quarantinePolicy(incidentId, namespace, allowEgress, workflowRunId());
  const own = await createOwned(policyObject(clients, incidentId, namespace, dryRun, policy));
  const kinds = await servedCniPolicyKinds(clients);
  const cniPolicies = await ensureCniPolicies(clients, kinds, { incidentId, namespace, allowEgress, dryRun });
  await addQuarantineLabels(clients, pod, incidentId, dryRun);

  const labelled: V1Pod = {
    ...pod,
    metadata: { ...pod.metadata, labels: { ...pod.metadata?.labels, ...quarantineLabels(incidentId) } },
  };
  const policies = await callKube(`list NetworkPolicies in namespace ${namespace}`, () =>
    clients.networking.listNamespacedNetworkPolicy({ namespace }),
  );
  const allowing = allowingPolicies(policies.items, labelled.metadata?.labels ?? {}, own.uid);
  const reach =
    allowing.length === 0
      ? { detachNeutralises: [], detachCannotNeutralise: [] }
      : detachReach(allowing, labelsAfterDetach(labelled, await planDetach(clients, namespace, labelled)));
  return {
    policyName: quarantinePolicyName(incidentId),
    // NOTE: the verdict reads Kubernetes NetworkPolicies only; Cilium or Calico deny rules added above may
    // already block what an allowing policy opens, so `incomplete` can be conservative on those clusters.
    isolation: allowing.length === 0 ? 'complete' : 'incomplete',
    allowingPolicies: allowing.map((item) => item.metadata?.name ?? ''),
    ...reach,
    cniPolicies,
    dryRun,
  };
}

export interface ReleaseResult {
  /** Names of the deleted NetworkPolicy and plugin policies. */
  deletedPolicies: string[];
  /** True when this incident's quarantine labels were removed from the pod. */
  unlabelled: boolean;
  /** Objects with the quarantine name that are not provably this incident's and were left in place. */
  foreign: string[];
  dryRun: boolean;
}

/**
 * Lifts a quarantine: deletes this incident's NetworkPolicy and plugin policies and removes this incident's
 * label from the pod. Another incident's quarantine of the same pod stays in force: its label key, its
 * policy and the shared quarantine label remain (see `releaseLabels`).
 */
export async function releasePodQuarantine(clients: KubeClients, raw: PodActionInput): Promise<ReleaseResult> {
  const input = parseInput(podActionInputSchema, raw, 'releasePodQuarantine');
  const { incidentId, namespace, pod: name, dryRun } = input;
  const policyName = quarantinePolicyName(incidentId);
  const outcome = await deleteOwned(policyObject(clients, incidentId, namespace, dryRun));
  const kinds = await servedCniPolicyKinds(clients);
  const cniDeleted = await deleteCniPolicies(clients, kinds, { incidentId, namespace, allowEgress: [], dryRun });

  const unlabelled = await retryOnConflict(async () => {
    const pod = await callKubeUnlessNotFound(`read pod ${namespace}/${name}`, () =>
      clients.core.readNamespacedPod({ namespace, name }),
    );
    return pod ? removeQuarantineLabels(clients, pod, incidentId, dryRun) : false;
  });
  return {
    deletedPolicies: [...(outcome === 'deleted' ? [policyName] : []), ...cniDeleted],
    unlabelled,
    foreign: outcome === 'foreign' ? [`NetworkPolicy ${namespace}/${policyName}`] : [],
    dryRun,
  };
}

function policyObject(
  clients: KubeClients,
  incidentId: string,
  namespace: string,
  dryRun: boolean,
  body?: V1NetworkPolicy,
): OwnedObject {
  const name = quarantinePolicyName(incidentId);
  const request = body ?? quarantinePolicy(incidentId, namespace, [], undefined);
  return {
    description: `NetworkPolicy ${namespace}/${name}`,
    incidentId,
    spec: request.spec,
    retry: clients.retry,
    create: () =>
      clients.networking.createNamespacedNetworkPolicy({ namespace, body: request, dryRun: dryRunParam(dryRun) }),
    read: () => clients.networking.readNamespacedNetworkPolicy({ namespace, name }),
    delete: (uid) =>
      clients.networking.deleteNamespacedNetworkPolicy({
        namespace,
        name,
        dryRun: dryRunParam(dryRun),
        body: deleteOptions(uid, dryRun),
      }),
  };
}
