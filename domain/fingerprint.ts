import type { Alert } from './alert';
import { sha256Hex } from './sha256';

/**
 * Pod names that a Deployment's ReplicaSet generates: `<deployment>-<pod-template-hash>-<suffix>`. Kubernetes
 * draws the hash (up to 10 characters) and the 5-character suffix from the alphabet `bcdfghjklmnpqrstvwxz2456789`.
 */
const deploymentPodName =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)-[bcdfghjklmnpqrstvwxz2456789]{5,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/;

/** Length of a fingerprint in hex digits: 64 bits of SHA-256, short enough for ids, ample against collisions. */
const fingerprintHexLength = 16;

/** The owner workload that an incident is grouped by, and whether Firebreak derived it from a pod name. */
export interface OwnerWorkload {
  workload: string;
  derived: boolean;
}

/**
 * Returns the alert's owner workload: the one the sender names, else one derived from the pod name. The
 * derivation is a heuristic that only applies when the sender names no owner: a pod name shaped like
 * `checkout-api-7c9d5f6b8-x2lqp` (name, pod-template hash, 5-character suffix) is taken to belong to
 * Deployment `checkout-api`. A bare pod or a StatefulSet pod (`ledger-0`) yields no owner, and the incident is
 * then grouped by the pod itself. The heuristic can be wrong for a bare pod whose name happens to match.
 */
export function ownerWorkloadOf(target: Alert['target']): OwnerWorkload | undefined {
  if (target.workload !== undefined) {
    return { workload: target.workload, derived: false };
  }
  const match = target.pod === undefined ? null : deploymentPodName.exec(target.pod);
  if (match?.[1] === undefined) {
    return undefined;
  }
  return { workload: `Deployment/${match[1]}`, derived: true };
}

/**
 * Rule family: the rule name in Unicode NFKC form and lowercase, with every run of characters other than
 * letters, combining marks and digits (in any script) turned into one `-`. So spelling variants of one rule
 * (Falco's name and its Alertmanager label) fall together. A name without any letter or digit gets
 * `rule-` and 16 hex digits of its SHA-256, so two such rules never share a family.
 */
export function ruleFamilyOf(rule: string): string {
  const folded = rule.normalize('NFKC').toLowerCase();
  const family = folded.replace(/[^\p{L}\p{M}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '');
  return family.length > 0 ? family : `rule-${sha256Hex(folded).slice(0, fingerprintHexLength)}`;
}

/**
 * Returns the scope an incident covers. Host events are scoped to their node and never to a namespace or the
 * cluster. Other alerts are scoped to their owner workload, else their pod, else their namespace, else their
 * image. An alert without any of these (or a host event without a node, which the parsers reject) is scoped to
 * its source and sender, so unrelated senders that reuse a rule name do not share an incident.
 */
export function incidentScopeOf(alert: Alert): string {
  const { target } = alert;
  if (alert.hostScoped && target.node !== undefined) {
    return `node:${target.node}`;
  }
  const namespace = `namespace:${target.namespace ?? ''}`;
  const owner = ownerWorkloadOf(target);
  if (owner !== undefined) {
    return `${namespace}/workload:${owner.workload}`;
  }
  if (target.pod !== undefined) {
    return `${namespace}/pod:${target.pod}`;
  }
  if (target.namespace !== undefined) {
    return namespace;
  }
  if (target.image !== undefined) {
    return `image:${target.image}`;
  }
  return `sender:${alert.source}/${alert.sender ?? ''}`;
}

/**
 * Fingerprint of the incident an alert belongs to: a SHA-256 prefix over cluster, scope and rule family, in
 * lowercase hex (safe in a Temporal workflow id). Alerts with equal fingerprints join one incident.
 */
export function fingerprintOf(alert: Alert): string {
  const key = JSON.stringify([alert.target.cluster ?? '', incidentScopeOf(alert), ruleFamilyOf(alert.rule)]);
  return sha256Hex(key).slice(0, fingerprintHexLength);
}
