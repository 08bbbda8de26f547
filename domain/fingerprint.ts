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
 * Normalised rule name: the rule name in Unicode NFKC form and lowercase, with every run of characters other
 * than letters, combining marks and digits (in any script) turned into one `-`. So spelling variants of one rule
 * (Falco's name and its Alertmanager label) fall together. A name without any letter or digit gets `rule-` and
 * 16 hex digits of its SHA-256, so two such rules never share a name.
 */
export function normaliseRuleName(rule: string): string {
  const folded = rule.normalize('NFKC').toLowerCase();
  const name = folded.replace(/[^\p{L}\p{M}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '');
  return name.length > 0 ? name : `rule-${sha256Hex(folded).slice(0, fingerprintHexLength)}`;
}

/**
 * Rule families that join several rules into one incident per scope. `workload-compromise` holds the runtime
 * signs that someone runs code of their choice in a container: an interactive shell, a binary that is not part
 * of the image, a miner, a reverse shell. On one workload these are the steps of one attack, so they share one
 * incident. The names are Falco rule names, as the shipped playbooks match them. They are compared in normalised
 * form, so the Alertmanager label of a rule joins the same family.
 */
export const ruleFamilies: Readonly<Record<string, readonly string[]>> = {
  'workload-compromise': [
    'Terminal shell in container',
    'Run shell untrusted',
    'Drop and execute new binary in container',
    'Container Drift Detected (chmod)',
    'Container Drift Detected (open+create)',
    'Fileless execution via memfd_create',
    'Execution from /dev/shm',
    'Detect crypto miners using the Stratum protocol',
    'Detect outbound connections to common miner pool ports',
    'Redirect STDOUT/STDIN to Network Connection in Container',
    'Netcat Remote Code Execution in Container',
  ],
};

const familyByRuleName = new Map(
  Object.entries(ruleFamilies).flatMap(([family, rules]) =>
    rules.map((rule): [string, string] => [normaliseRuleName(rule), family]),
  ),
);

/**
 * Rule family of a rule name: the family that `ruleFamilies` lists it in, else the normalised rule name itself,
 * so every other rule keeps an incident of its own.
 */
export function ruleFamilyOf(rule: string): string {
  const name = normaliseRuleName(rule);
  return familyByRuleName.get(name) ?? name;
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
