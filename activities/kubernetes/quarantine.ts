import type { V1NetworkPolicy } from '@kubernetes/client-node';
import type { PodActionInput, QuarantinePodInput, QuarantinePodResult } from '../../domain/response';
import { callKube, callKubeUnlessNotFound, deleteOptions, dryRunParam, mergePatch, type KubeClients } from './client';
import { deleteCniPolicies, ensureCniPolicies, servedCniPolicyKinds } from './cni';
import { workflowRunId } from './context';
import { parseInput, podActionInputSchema, quarantinePodInputSchema } from './inputs';
import { INCIDENT_LABEL, QUARANTINE_LABEL, quarantineLabels, quarantinePolicyName } from './labels';
import { allowingPolicies, quarantinePolicy } from './network-policy';
import { createOwned, deleteOwned, type OwnedObject } from './owned';
import { readPod } from './pods';

export interface QuarantineResult extends QuarantinePodResult {
  /** Cilium or Calico policies added next to the NetworkPolicy, as `group/Kind/name`. */
  cniPolicies: string[];
}

/**
 * Isolates one pod. It labels that pod alone with the incident's quarantine labels, then creates a
 * NetworkPolicy that selects only those labels and denies all ingress and all egress outside the
 * allow-list, plus Cilium or Calico policies where the cluster serves them. Finally it lists every
 * NetworkPolicy in the namespace. Any other policy that selects the pod and allows traffic keeps it
 * reachable, so the result is then `incomplete` and names those policies. Detaching the pod closes that gap.
 */
export async function quarantinePod(clients: KubeClients, raw: QuarantinePodInput): Promise<QuarantineResult> {
  const input = parseInput(quarantinePodInputSchema, raw, 'quarantinePod');
  const { incidentId, namespace, pod: name, dryRun } = input;
  const pod = await readPod(clients, namespace, name);
  const labels = { ...pod.metadata?.labels, ...quarantineLabels(incidentId) };

  await callKube(`label pod ${namespace}/${name}`, () =>
    clients.core.patchNamespacedPod(
      { namespace, name, body: { metadata: { labels: quarantineLabels(incidentId) } }, dryRun: dryRunParam(dryRun) },
      mergePatch(),
    ),
  );

  const allowEgress = input.allowEgress ?? [];
  const policy = quarantinePolicy(incidentId, namespace, allowEgress, workflowRunId());
  await createOwned(policyObject(clients, incidentId, namespace, dryRun, policy));
  const kinds = await servedCniPolicyKinds(clients);
  const cniPolicies = await ensureCniPolicies(clients, kinds, { incidentId, namespace, allowEgress, dryRun });

  const policies = await callKube(`list NetworkPolicies in namespace ${namespace}`, () =>
    clients.networking.listNamespacedNetworkPolicy({ namespace }),
  );
  const allowing = allowingPolicies(policies.items, labels, quarantinePolicyName(incidentId));
  return {
    policyName: quarantinePolicyName(incidentId),
    // NOTE: the verdict reads Kubernetes NetworkPolicies only; Cilium or Calico deny rules added above may
    // already block what an allowing policy opens, so `incomplete` can be conservative on those clusters.
    isolation: allowing.length === 0 ? 'complete' : 'incomplete',
    allowingPolicies: allowing,
    cniPolicies,
    dryRun,
  };
}

export interface ReleaseResult {
  /** Names of the deleted NetworkPolicy and plugin policies. */
  deletedPolicies: string[];
  /** True when the quarantine labels were removed from the pod. */
  unlabelled: boolean;
  /** Objects with the quarantine name that belong to someone else and were left in place. */
  foreign: string[];
  dryRun: boolean;
}

/**
 * Lifts a quarantine: deletes this incident's NetworkPolicy and plugin policies and removes the quarantine
 * labels from the pod. Labels set by another incident and objects that are not this incident's stay.
 */
export async function releasePodQuarantine(clients: KubeClients, raw: PodActionInput): Promise<ReleaseResult> {
  const input = parseInput(podActionInputSchema, raw, 'releasePodQuarantine');
  const { incidentId, namespace, pod: name, dryRun } = input;
  const policyName = quarantinePolicyName(incidentId);
  const outcome = await deleteOwned(policyObject(clients, incidentId, namespace, dryRun));
  const kinds = await servedCniPolicyKinds(clients);
  const cniDeleted = await deleteCniPolicies(clients, kinds, { incidentId, namespace, allowEgress: [], dryRun });

  const pod = await callKubeUnlessNotFound(`read pod ${namespace}/${name}`, () =>
    clients.core.readNamespacedPod({ namespace, name }),
  );
  const ours = pod?.metadata?.labels?.[INCIDENT_LABEL] === incidentId;
  if (pod && ours) {
    const body = { metadata: { labels: { [INCIDENT_LABEL]: null, [QUARANTINE_LABEL]: null } } };
    await callKube(`unlabel pod ${namespace}/${name}`, () =>
      clients.core.patchNamespacedPod({ namespace, name, body, dryRun: dryRunParam(dryRun) }, mergePatch()),
    );
  }
  return {
    deletedPolicies: [...(outcome === 'deleted' ? [policyName] : []), ...cniDeleted],
    unlabelled: Boolean(pod && ours),
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
): OwnedObject<V1NetworkPolicy> {
  const name = quarantinePolicyName(incidentId);
  return {
    description: `NetworkPolicy ${namespace}/${name}`,
    incidentId,
    retry: clients.retry,
    create: () =>
      clients.networking.createNamespacedNetworkPolicy({
        namespace,
        body: body ?? quarantinePolicy(incidentId, namespace, [], undefined),
        dryRun: dryRunParam(dryRun),
      }),
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
