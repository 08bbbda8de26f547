import type { V1LabelSelector } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';

/** Label on every object Firebreak creates and on a quarantined pod; its value is an incident id. */
export const INCIDENT_LABEL = 'firebreak.dev/incident';
/** Label that marks a pod that at least one incident keeps in quarantine; its value is `true`. */
export const QUARANTINE_LABEL = 'firebreak.dev/quarantine';
/** Prefix of the per-incident quarantine label key; the key is this prefix plus `incidentKey(incidentId)`. */
export const QUARANTINE_KEY_PREFIX = 'quarantine.firebreak.dev/';
/** Annotation with the Temporal run id that created an object. */
export const RUN_ANNOTATION = 'firebreak.dev/incident-run';
/** Annotation with the incident id on an object Firebreak created. */
export const INCIDENT_ANNOTATION = 'firebreak.dev/incident';
/** Annotation with the SHA-256 (hex) of the spec Firebreak created an object with, see `specHash`. */
export const SPEC_HASH_ANNOTATION = 'firebreak.dev/spec-sha256';
/** Annotation on a detached pod: JSON with the incident id, the removed labels, the controller and Services. */
export const DETACHED_ANNOTATION = 'firebreak.dev/detached-labels';
/** Annotation on a cordoned node: the incident that cordoned it. */
export const CORDONED_BY_ANNOTATION = 'firebreak.dev/cordoned-by';
/**
 * Prefix of the per-incident annotation on a scaled workload; the value is JSON
 * `{ incidentId, previousReplicas, setReplicas }`.
 */
export const REPLICAS_ANNOTATION_PREFIX = 'replicas.firebreak.dev/';
/** Annotation on a Deployment: the incident that paused its rollout. */
export const PAUSED_BY_ANNOTATION = 'firebreak.dev/paused-by';
/** Pod template annotation set by a restore, so the rollout happens even when the image is unchanged. */
export const RESTORED_FOR_ANNOTATION = 'firebreak.dev/restored-for';
/** Annotation that the kubelet puts on mirror pods of static pods. */
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** Field manager of Firebreak's writes, so `managedFields` shows which fields Firebreak set last. */
export const FIELD_MANAGER = 'firebreak';

const INCIDENT_PREFIX = 'incident-';
const POLICY_PREFIX = 'firebreak-quarantine-';
/** Maximum length of an incident key, so the policy name stays within a 63-character RFC 1123 label. */
const MAX_KEY_LENGTH = 63 - POLICY_PREFIX.length;
const HASH_HEX_LENGTH = 12;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Short form of an incident id that is valid in a DNS-1123 label and in a label key. The workflow's ids,
 * `incident-<16 hex digits>`, give the part after `incident-`. Any other id, or one too long, gives a
 * readable cut of it plus the first 12 hex digits of its SHA-256, so two ids never share a key by truncation.
 */
export function incidentKey(incidentId: string): string {
  const short = incidentId.startsWith(INCIDENT_PREFIX) ? incidentId.slice(INCIDENT_PREFIX.length) : undefined;
  if (short !== undefined && short.length <= MAX_KEY_LENGTH && DNS_LABEL.test(short)) return short;
  const hash = createHash('sha256').update(incidentId).digest('hex').slice(0, HASH_HEX_LENGTH);
  const readable = (short ?? incidentId)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, MAX_KEY_LENGTH - HASH_HEX_LENGTH - 1)
    .replace(/^-+|-+$/g, '');
  return readable ? `${readable}-${hash}` : hash;
}

/** Deterministic name of the quarantine NetworkPolicy (and its Cilium or Calico twin) for an incident. */
export function quarantinePolicyName(incidentId: string): string {
  return `${POLICY_PREFIX}${incidentKey(incidentId)}`;
}

/** Returns the per-incident label key that this incident's quarantine policy selects. */
export function quarantineLabelKey(incidentId: string): string {
  return `${QUARANTINE_KEY_PREFIX}${incidentKey(incidentId)}`;
}

/** Returns the labels a quarantine policy selects: only this incident's key, with the incident id as its value. */
export function quarantineSelector(incidentId: string): Record<string, string> {
  return { [quarantineLabelKey(incidentId)]: incidentId };
}

/**
 * Labels a quarantine puts on the pod. The per-incident key is what the policy selects, so a second incident
 * on the same pod adds its own key instead of overwriting the first one's. The shared labels name the latest
 * incident and mark the pod as quarantined, for people and tools listing quarantined pods.
 */
export function quarantineLabels(incidentId: string): Record<string, string> {
  return { ...quarantineSelector(incidentId), [INCIDENT_LABEL]: incidentId, [QUARANTINE_LABEL]: 'true' };
}

/** Labels on every object Firebreak creates for an incident. */
export function ownedLabels(incidentId: string): Record<string, string> {
  return { [INCIDENT_LABEL]: incidentId, [QUARANTINE_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'firebreak' };
}

/**
 * SHA-256 (hex) of a spec in a canonical form: keys sorted, and keys whose value is missing, null, an empty
 * list or an empty object left out, because the API server drops those when it stores the object.
 */
export function specHash(spec: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(spec)))
    .digest('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value)
    .map(([key, item]): [string, unknown] => [key, canonical(item)])
    .filter(([, item]) => !isEmptyValue(item))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return Object.fromEntries(entries);
}

function isEmptyValue(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

/**
 * Evaluates a Kubernetes label selector the way the API server does: every matchLabels pair and every
 * expression (In, NotIn, Exists, DoesNotExist) must hold. An empty selector matches everything.
 */
export function selectorMatches(selector: V1LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((expression) => {
    const value = labels[expression.key];
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        return value !== undefined && values.includes(value);
      case 'NotIn':
        return value === undefined || !values.includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        return false;
    }
  });
}

/** Label keys a selector depends on. */
export function selectorKeys(selector: V1LabelSelector | undefined): string[] {
  const keys = Object.keys(selector?.matchLabels ?? {});
  const expressionKeys = (selector?.matchExpressions ?? []).map((expression) => expression.key);
  return [...new Set([...keys, ...expressionKeys])];
}
