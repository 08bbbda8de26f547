import type { V1ObjectMeta } from '@kubernetes/client-node';
import { z } from 'zod';
import type { ScaleWorkloadInput, ScaleWorkloadResult } from '../../domain/response';
import { retryOnConflict, type KubeClients } from './client';
import { parseInput, scaleWorkloadInputSchema } from './inputs';
import { incidentKey, REPLICAS_ANNOTATION_PREFIX } from './labels';
import { workloadApi } from './workload-api';

/** One incident's change to a workload's replica count, kept in an annotation of its own. */
const replicaRecordSchema = z.object({
  incidentId: z.string(),
  /** The count before any Firebreak incident scaled the workload, as far as this incident could tell. */
  previousReplicas: z.number().int().nonnegative(),
  /** The count this incident set. */
  setReplicas: z.number().int().nonnegative(),
});
type ReplicaRecord = z.infer<typeof replicaRecordSchema>;

export interface ScaleResult extends ScaleWorkloadResult {
  /** The replica count after the call. */
  replicas: number;
  /** Set on an undo: true when the recorded count was restored, false when the current count was left. */
  restored?: boolean;
  /**
   * Why an undo left the current count: `replicasChangedSince` (someone changed the count after this
   * incident set it), `otherIncidentActive` (another incident's scale is still recorded, and undoing that
   * incident restores the count) or `notScaledByThisIncident` (no record of this incident, and the count differs).
   */
  reason?: 'replicasChangedSince' | 'otherIncidentActive' | 'notScaledByThisIncident';
  dryRun: boolean;
}

type Input = z.infer<typeof scaleWorkloadInputSchema>;
type Api = ReturnType<typeof workloadApi>;

function recordAnnotation(incidentId: string): string {
  return `${REPLICAS_ANNOTATION_PREFIX}${incidentKey(incidentId)}`;
}

function replicaRecords(meta: V1ObjectMeta | undefined): ReplicaRecord[] {
  const records: ReplicaRecord[] = [];
  for (const [key, text] of Object.entries(meta?.annotations ?? {})) {
    if (!key.startsWith(REPLICAS_ANNOTATION_PREFIX)) continue;
    try {
      const parsed = replicaRecordSchema.safeParse(JSON.parse(text));
      if (parsed.success && recordAnnotation(parsed.data.incidentId) === key) records.push(parsed.data);
    } catch {
      // Not JSON, so not a record that Firebreak wrote.
    }
  }
  return records;
}

/**
 * Sets the replica count of a Deployment or StatefulSet. Each incident records the count from before it and
 * the count it set, in an annotation of its own. When another incident's record already set the current count,
 * the new record copies that incident's count from before, so whichever incident is undone last restores the
 * count from before both. A retried call returns the recorded count.
 *
 * The inverse call, with the recorded count (or `restore: true`), removes this incident's record. It restores
 * the count only when no other incident's record remains and the current count is still the one this incident
 * set. Otherwise it leaves the count as it is and reports the reason in `reason`, so it never overwrites a
 * count that someone else set.
 */
export async function scaleWorkload(
  clients: KubeClients,
  raw: ScaleWorkloadInput & { restore?: boolean },
): Promise<ScaleResult> {
  const input = parseInput(scaleWorkloadInputSchema, raw, 'scaleWorkload');
  const api = workloadApi(clients, input.kind, input.namespace, input.name, input.dryRun);
  return retryOnConflict(async () => {
    const workload = await api.read();
    const current = workload.spec?.replicas ?? 1;
    const records = replicaRecords(workload.metadata);
    const mine = records.find((record) => record.incidentId === input.incidentId);
    const others = records.filter((record) => record !== mine);
    const version = workload.metadata?.resourceVersion;
    const undo = input.restore === true || (mine !== undefined && input.replicas === mine.previousReplicas);
    if (undo) return restore(api, input, { mine, others, current, version });
    return hold(api, input, { mine, others, current, version });
  });
}

interface State {
  mine: ReplicaRecord | undefined;
  others: ReplicaRecord[];
  current: number;
  version: string | undefined;
}

async function hold(api: Api, input: Input, state: State): Promise<ScaleResult> {
  const { mine, others, current } = state;
  const done = (previousReplicas: number): ScaleResult => ({
    previousReplicas,
    replicas: input.replicas,
    dryRun: input.dryRun,
  });
  if (mine && current === input.replicas) return done(mine.previousReplicas);
  const inherited = others.find((record) => record.setReplicas === current);
  const previousReplicas = mine?.previousReplicas ?? inherited?.previousReplicas ?? current;
  // With no other incident holding the workload, a call that changes nothing needs no record.
  if (!mine && others.length === 0 && current === input.replicas) return done(previousReplicas);

  const record: ReplicaRecord = { incidentId: input.incidentId, previousReplicas, setReplicas: input.replicas };
  const metadata = {
    resourceVersion: state.version,
    annotations: { [recordAnnotation(input.incidentId)]: JSON.stringify(record) },
  };
  const spec = current === input.replicas ? {} : { replicas: input.replicas };
  await api.patch('scale', { metadata, spec });
  return done(previousReplicas);
}

async function restore(api: Api, input: Input, state: State): Promise<ScaleResult> {
  const { mine, others, current } = state;
  const base = { previousReplicas: mine?.previousReplicas ?? input.replicas, replicas: current, dryRun: input.dryRun };
  if (mine === undefined) {
    const restored = current === input.replicas;
    return restored ? { ...base, restored } : { ...base, restored, reason: 'notScaledByThisIncident' };
  }
  let reason: ScaleResult['reason'];
  if (others.length > 0) reason = 'otherIncidentActive';
  else if (current !== mine.setReplicas) reason = 'replicasChangedSince';

  const metadata = { resourceVersion: state.version, annotations: { [recordAnnotation(input.incidentId)]: null } };
  if (reason !== undefined) {
    await api.patch('remove the replica record of', { metadata });
    return { ...base, restored: false, reason };
  }
  await api.patch('restore the replicas of', { metadata, spec: { replicas: mine.previousReplicas } });
  return { ...base, replicas: mine.previousReplicas, restored: true };
}
