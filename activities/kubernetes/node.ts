import type { V1Node } from '@kubernetes/client-node';
import type { CordonNodeResult, NodeActionInput } from '../../domain/response';
import { callKube, dryRunParam, retryOnConflict, strategicMergePatch, type KubeClients } from './client';
import { nodeActionInputSchema, parseInput } from './inputs';
import { CORDONED_BY_ANNOTATION, FIELD_MANAGER } from './labels';

/**
 * Marks a node unschedulable. The first call that cordons a schedulable node records the incident in the
 * `firebreak.dev/cordoned-by` annotation, so `uncordonNode` can tell the cordon is its own and later calls
 * keep reporting the state from before the incident (`wasUnschedulable: false`). A later call checks the live
 * `spec.unschedulable` and cordons again when someone uncordoned the node since. A node that was already
 * cordoned without that annotation is left as it is and reported as `wasUnschedulable: true`.
 */
export async function cordonNode(clients: KubeClients, raw: NodeActionInput): Promise<CordonNodeResult> {
  const { incidentId, node: name, dryRun } = parseInput(nodeActionInputSchema, raw, 'cordonNode');
  return cordon(clients, incidentId, name, dryRun);
}

export function cordon(clients: KubeClients, incidentId: string, name: string, dryRun: boolean) {
  return retryOnConflict(() => cordonOnce(clients, incidentId, name, dryRun));
}

async function cordonOnce(
  clients: KubeClients,
  incidentId: string,
  name: string,
  dryRun: boolean,
): Promise<CordonNodeResult> {
  const node = await callKube(`read node ${name}`, () => clients.core.readNode({ name }));
  const ours = node.metadata?.annotations?.[CORDONED_BY_ANNOTATION] === incidentId;
  const unschedulable = node.spec?.unschedulable === true;
  if (unschedulable) return { wasUnschedulable: !ours };

  const annotations = ours ? {} : { [CORDONED_BY_ANNOTATION]: incidentId };
  const body = {
    metadata: { resourceVersion: node.metadata?.resourceVersion, annotations },
    spec: { unschedulable: true },
  };
  await callKube(`cordon node ${name}`, () =>
    clients.core.patchNode(
      { name, body, dryRun: dryRunParam(dryRun), fieldManager: FIELD_MANAGER },
      strategicMergePatch(),
    ),
  );
  return { wasUnschedulable: false };
}

export interface UncordonResult {
  /** True when this call made the node schedulable again. */
  uncordoned: boolean;
  unschedulable: boolean;
  /**
   * Why the node was not uncordoned: `notCordonedByThisIncident` (the annotation is absent or names another
   * incident) or `cordonChangedSince` (someone else set or cleared `spec.unschedulable` after this incident's
   * cordon, so the cordon in place is theirs).
   */
  reason?: 'notCordonedByThisIncident' | 'cordonChangedSince';
  dryRun: boolean;
}

/**
 * True when Firebreak's field manager owns `spec.unschedulable`. The API server gives a field to the manager
 * that last changed its value, so this is false once someone else uncordons or cordons the node.
 */
export function cordonedByFirebreak(node: V1Node): boolean {
  return (node.metadata?.managedFields ?? []).some((entry) => {
    if (entry.manager !== FIELD_MANAGER || entry.subresource) return false;
    const spec: unknown = Reflect.get(Object(entry.fieldsV1), 'f:spec');
    return spec !== null && typeof spec === 'object' && 'f:unschedulable' in spec;
  });
}

/**
 * Makes a node schedulable again, but only when this incident's cordon is still the one in place: the
 * annotation names this incident and Firebreak's own patch set `spec.unschedulable` last. A node cordoned
 * before the incident, by another incident, or again by someone else after this incident's cordon stays
 * cordoned, and the result gives the reason. A stale annotation of this incident is removed.
 */
export async function uncordonNode(clients: KubeClients, raw: NodeActionInput): Promise<UncordonResult> {
  const { incidentId, node: name, dryRun } = parseInput(nodeActionInputSchema, raw, 'uncordonNode');
  return retryOnConflict(() => uncordonOnce(clients, incidentId, name, dryRun));
}

async function uncordonOnce(
  clients: KubeClients,
  incidentId: string,
  name: string,
  dryRun: boolean,
): Promise<UncordonResult> {
  const node = await callKube(`read node ${name}`, () => clients.core.readNode({ name }));
  const unschedulable = node.spec?.unschedulable === true;
  if (node.metadata?.annotations?.[CORDONED_BY_ANNOTATION] !== incidentId) {
    return { uncordoned: false, unschedulable, reason: 'notCordonedByThisIncident', dryRun };
  }
  const liftable = unschedulable && cordonedByFirebreak(node);
  const metadata = { resourceVersion: node.metadata?.resourceVersion, annotations: { [CORDONED_BY_ANNOTATION]: null } };
  const body = liftable ? { metadata, spec: { unschedulable: null } } : { metadata };
  await callKube(`${liftable ? 'uncordon' : 'remove the cordon annotation of'} node ${name}`, () =>
    clients.core.patchNode(
      { name, body, dryRun: dryRunParam(dryRun), fieldManager: FIELD_MANAGER },
      strategicMergePatch(),
    ),
  );
  if (liftable) return { uncordoned: true, unschedulable: false, dryRun };
  return { uncordoned: false, unschedulable, reason: 'cordonChangedSince', dryRun };
}
