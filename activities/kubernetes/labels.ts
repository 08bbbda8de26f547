import type { V1LabelSelector } from '@kubernetes/client-node';

/** Label on every pod and object Firebreak touches for an incident; its value is the incident id. */
export const INCIDENT_LABEL = 'firebreak.dev/incident';
/** Label that marks a quarantined pod; its value is `true`. */
export const QUARANTINE_LABEL = 'firebreak.dev/quarantine';
/** Annotation with the Temporal run id that created an object. */
export const RUN_ANNOTATION = 'firebreak.dev/incident-run';
/** Annotation on a detached pod: JSON with the incident id, the removed labels, the controller and Services. */
export const DETACHED_ANNOTATION = 'firebreak.dev/detached-labels';
/** Annotation on a cordoned node: the incident that cordoned it. */
export const CORDONED_BY_ANNOTATION = 'firebreak.dev/cordoned-by';
/** Annotation on a workload: JSON `{ incidentId, replicas }` with the replica count before scaling. */
export const PREVIOUS_REPLICAS_ANNOTATION = 'firebreak.dev/previous-replicas';
/** Annotation on a Deployment: the incident that paused its rollout. */
export const PAUSED_BY_ANNOTATION = 'firebreak.dev/paused-by';
/** Pod template annotation set by a restore, so the rollout happens even when the image is unchanged. */
export const RESTORED_FOR_ANNOTATION = 'firebreak.dev/restored-for';
/** Annotation that the kubelet puts on mirror pods of static pods. */
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

const INCIDENT_PREFIX = 'incident-';
const MAX_NAME_LENGTH = 63;

/** Deterministic name of the quarantine NetworkPolicy (and its Cilium or Calico twin) for an incident. */
export function quarantinePolicyName(incidentId: string): string {
  const suffix = incidentId.startsWith(INCIDENT_PREFIX) ? incidentId.slice(INCIDENT_PREFIX.length) : incidentId;
  return `firebreak-quarantine-${suffix}`.slice(0, MAX_NAME_LENGTH).replace(/-+$/, '');
}

/** Labels that a quarantine puts on the pod and that its policy selects. */
export function quarantineLabels(incidentId: string): Record<string, string> {
  return { [INCIDENT_LABEL]: incidentId, [QUARANTINE_LABEL]: 'true' };
}

/** Labels on every object Firebreak creates for an incident. */
export function ownedLabels(incidentId: string): Record<string, string> {
  return { [INCIDENT_LABEL]: incidentId, [QUARANTINE_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'firebreak' };
}

/** True when the object carries this incident's label. */
export function isOwnedBy(labels: Record<string, string> | undefined, incidentId: string): boolean {
  return labels?.[INCIDENT_LABEL] === incidentId;
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
