import type { V1Pod } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { callKube, dryRunParam, jsonPatch, mergePatch, type KubeClients } from './client';
import {
  INCIDENT_LABEL,
  QUARANTINE_KEY_PREFIX,
  QUARANTINE_LABEL,
  quarantineLabelKey,
  quarantineLabels,
} from './labels';
import { readPod, targetReplaced } from './pods';

/** Attempts of the guarded label patch; a failed `test` operation (HTTP 422) means the pod changed under us. */
const MAX_LABEL_ATTEMPTS = 3;

/** Escapes a label key for a JSON Pointer (RFC 6901): `~` becomes `~0` and `/` becomes `~1`. */
function pointerTo(key: string): string {
  return `/metadata/labels/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/**
 * JSON patch that adds this incident's quarantine labels to the pod as it was read. Its first operation tests
 * `/metadata/uid`, so the API server applies it only to that very pod, never to a replacement with its name.
 * A pod without labels gets the whole label map, guarded by a test of its resourceVersion so that labels
 * added in the meantime are not overwritten.
 */
function labelOperations(pod: V1Pod, incidentId: string): object[] {
  const labels = quarantineLabels(incidentId);
  const operations: object[] = [{ op: 'test', path: '/metadata/uid', value: pod.metadata?.uid }];
  if (Object.keys(pod.metadata?.labels ?? {}).length === 0) {
    operations.push({ op: 'test', path: '/metadata/resourceVersion', value: pod.metadata?.resourceVersion });
    operations.push({ op: 'add', path: '/metadata/labels', value: labels });
    return operations;
  }
  for (const [key, value] of Object.entries(labels)) operations.push({ op: 'add', path: pointerTo(key), value });
  return operations;
}

/**
 * Adds the quarantine labels to the pod that was read and checked. When the guarded patch fails, the pod is
 * read again. If its uid changed, it was replaced and the call fails with `TargetReplaced`. Otherwise the
 * patch is rebuilt from the fresh read and sent again.
 */
export async function addQuarantineLabels(clients: KubeClients, pod: V1Pod, incidentId: string, dryRun: boolean) {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const uid = pod.metadata?.uid ?? '';
  let current = pod;
  for (let attempt = 1; ; attempt += 1) {
    const body = labelOperations(current, incidentId);
    try {
      await callKube(`label pod ${namespace}/${name}`, () =>
        clients.core.patchNamespacedPod({ namespace, name, body, dryRun: dryRunParam(dryRun) }, jsonPatch()),
      );
      return;
    } catch (error) {
      const failedTest = error instanceof ApplicationFailure && error.type === 'KubernetesInvalid';
      if (!failedTest || attempt >= MAX_LABEL_ATTEMPTS) throw error;
    }
    current = await readPod(clients, namespace, name);
    if (current.metadata?.uid !== uid) throw targetReplaced(namespace, name, uid, current);
  }
}

/**
 * Merge patch that lifts this incident's quarantine from a pod's labels, or undefined when the pod is not in
 * this incident's quarantine. It removes this incident's own key. The shared `firebreak.dev/quarantine` label
 * goes only when no other incident's key remains, and `firebreak.dev/incident`, when it names this incident,
 * then names a remaining incident instead. A pod quarantined before per-incident keys existed (shared labels
 * only, naming this incident) counts as this incident's.
 */
export function releaseLabels(
  labels: Record<string, string>,
  incidentId: string,
): Record<string, string | null> | undefined {
  const ownKey = quarantineLabelKey(incidentId);
  const otherKeys = Object.keys(labels)
    .filter((key) => key.startsWith(QUARANTINE_KEY_PREFIX) && key !== ownKey)
    .sort();
  const legacy = labels[ownKey] === undefined && otherKeys.length === 0 && labels[INCIDENT_LABEL] === incidentId;
  if (labels[ownKey] !== incidentId && !legacy) return undefined;

  const patch: Record<string, string | null> = { [ownKey]: null };
  const namesThisIncident = labels[INCIDENT_LABEL] === incidentId;
  const remaining = otherKeys[0] === undefined ? undefined : labels[otherKeys[0]];
  if (remaining === undefined) {
    patch[QUARANTINE_LABEL] = null;
    if (namesThisIncident) patch[INCIDENT_LABEL] = null;
  } else if (namesThisIncident) {
    patch[INCIDENT_LABEL] = remaining;
  }
  return patch;
}

/** Applies `releaseLabels` to the pod with a resourceVersion precondition; returns true when it changed labels. */
export async function removeQuarantineLabels(
  clients: KubeClients,
  pod: V1Pod,
  incidentId: string,
  dryRun: boolean,
): Promise<boolean> {
  const labels = releaseLabels(pod.metadata?.labels ?? {}, incidentId);
  if (labels === undefined) return false;
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const body = { metadata: { resourceVersion: pod.metadata?.resourceVersion, labels } };
  await callKube(`unlabel pod ${namespace}/${name}`, () =>
    clients.core.patchNamespacedPod({ namespace, name, body, dryRun: dryRunParam(dryRun) }, mergePatch()),
  );
  return true;
}
