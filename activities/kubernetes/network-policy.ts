import type { V1NetworkPolicy, V1NetworkPolicyEgressRule, V1NetworkPolicyPort } from '@kubernetes/client-node';
import type { z } from 'zod';
import { permanentFailure } from './errors';
import type { egressAllowSchema } from './inputs';
import { ownedLabels, quarantinePolicyName, quarantineSelector, selectorMatches } from './labels';
import { ownedAnnotations } from './owned';

export type EgressAllow = z.infer<typeof egressAllowSchema>;

/**
 * Builds the quarantine NetworkPolicy. It selects only pods with this incident's own quarantine label and lists
 * both policy types with no ingress rule, so it denies all ingress and every egress not in the allow-list.
 * Its annotations record the incident and the hash of this spec, so a later 409 can tell it from a look-alike.
 */
export function quarantinePolicy(
  incidentId: string,
  namespace: string,
  allowEgress: EgressAllow[],
  runId: string | undefined,
): V1NetworkPolicy & { spec: NonNullable<V1NetworkPolicy['spec']> } {
  const spec = {
    podSelector: { matchLabels: quarantineSelector(incidentId) },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [],
    egress: allowEgress.map(egressRule),
  };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: quarantinePolicyName(incidentId),
      namespace,
      labels: ownedLabels(incidentId),
      annotations: ownedAnnotations(incidentId, spec, runId),
    },
    spec,
  };
}

function egressRule(allow: EgressAllow): V1NetworkPolicyEgressRule {
  const peer = allow.cidr
    ? { ipBlock: { cidr: allow.cidr } }
    : { namespaceSelector: { matchLabels: nonEmptySelector(allow.namespaceSelector ?? {}) } };
  const ports: V1NetworkPolicyPort[] = (allow.ports ?? []).flatMap((port) => [
    { protocol: 'TCP', port },
    { protocol: 'UDP', port },
  ]);
  return ports.length > 0 ? { to: [peer], ports } : { to: [peer] };
}

/** Rejects an empty namespace selector, which would open egress to every pod in the cluster. */
function nonEmptySelector(labels: Record<string, string>): Record<string, string> {
  if (Object.keys(labels).length === 0) {
    throw permanentFailure(
      'EmptyScope',
      'an egress allow rule has an empty namespaceSelector, which would allow every namespace: name its labels',
    );
  }
  return labels;
}

/**
 * Names of NetworkPolicies that select a pod with these labels and allow some traffic. NetworkPolicies are
 * additive, so any such policy keeps the pod reachable despite the quarantine. Only the policy with uid
 * `ownUid` (the quarantine policy this incident created) is left out; a policy is never left out by its name.
 */
export function allowingPolicies(
  policies: V1NetworkPolicy[],
  podLabels: Record<string, string>,
  ownUid: string | undefined,
): V1NetworkPolicy[] {
  return policies
    .filter((policy) => ownUid === undefined || policy.metadata?.uid !== ownUid)
    .filter((policy) => selectorMatches(policy.spec?.podSelector, podLabels))
    .filter(allowsTraffic)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/**
 * Splits allowing policies by whether detaching the pod would stop them from selecting it: detaching removes
 * only the labels its controller and Services select on (`labelsAfterDetach` lacks them). A policy that
 * selects on other labels, or an empty pod selector that selects every pod, still selects the detached pod.
 */
export function detachReach(allowing: V1NetworkPolicy[], labelsAfterDetach: Record<string, string>) {
  const names = (policies: V1NetworkPolicy[]) => policies.map((policy) => policy.metadata?.name ?? '');
  const stillSelecting = allowing.filter((policy) => selectorMatches(policy.spec?.podSelector, labelsAfterDetach));
  const neutralised = allowing.filter((policy) => !stillSelecting.includes(policy));
  return { detachNeutralises: names(neutralised), detachCannotNeutralise: names(stillSelecting) };
}

/**
 * True when a policy has at least one ingress or egress rule for a direction it governs. Without
 * `policyTypes`, a policy governs Ingress always and Egress only when it has egress rules.
 */
export function allowsTraffic(policy: V1NetworkPolicy): boolean {
  const ingressRules = policy.spec?.ingress ?? [];
  const egressRules = policy.spec?.egress ?? [];
  const types = policy.spec?.policyTypes ?? (egressRules.length > 0 ? ['Ingress', 'Egress'] : ['Ingress']);
  return (types.includes('Ingress') && ingressRules.length > 0) || (types.includes('Egress') && egressRules.length > 0);
}
