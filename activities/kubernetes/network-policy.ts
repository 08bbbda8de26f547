import type { V1NetworkPolicy, V1NetworkPolicyEgressRule, V1NetworkPolicyPort } from '@kubernetes/client-node';
import type { z } from 'zod';
import { permanentFailure } from './errors';
import type { egressAllowSchema } from './inputs';
import { ownedLabels, quarantineLabels, quarantinePolicyName, RUN_ANNOTATION, selectorMatches } from './labels';

export type EgressAllow = z.infer<typeof egressAllowSchema>;

/**
 * Builds the quarantine NetworkPolicy. It selects only pods with this incident's quarantine labels and lists
 * both policy types with no ingress rule, so it denies all ingress and every egress not in the allow-list.
 */
export function quarantinePolicy(
  incidentId: string,
  namespace: string,
  allowEgress: EgressAllow[],
  runId: string | undefined,
): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: quarantinePolicyName(incidentId),
      namespace,
      labels: ownedLabels(incidentId),
      annotations: runId ? { [RUN_ANNOTATION]: runId } : {},
    },
    spec: {
      podSelector: { matchLabels: quarantineLabels(incidentId) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: allowEgress.map(egressRule),
    },
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
 * Names of NetworkPolicies, other than `ownPolicy`, that select a pod with these labels and allow some
 * traffic. NetworkPolicies are additive, so any such policy keeps the pod reachable despite the quarantine.
 */
export function allowingPolicies(policies: V1NetworkPolicy[], podLabels: Record<string, string>, ownPolicy: string) {
  return policies
    .filter((policy) => policy.metadata?.name !== ownPolicy)
    .filter((policy) => selectorMatches(policy.spec?.podSelector, podLabels))
    .filter(allowsTraffic)
    .map((policy) => policy.metadata?.name ?? '')
    .sort();
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
