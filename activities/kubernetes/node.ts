import type { CordonNodeResult, NodeActionInput } from '../../domain/response';
import { callKube, dryRunParam, retryOnConflict, strategicMergePatch, type KubeClients } from './client';
import { nodeActionInputSchema, parseInput } from './inputs';
import { CORDONED_BY_ANNOTATION } from './labels';

/**
 * Marks a node unschedulable. When the node was schedulable, it also records the incident in an annotation,
 * so `uncordonNode` can tell the cordon is its own and a retried call still reports `wasUnschedulable: false`.
 * A node that was already cordoned is left as it is.
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
  if (node.metadata?.annotations?.[CORDONED_BY_ANNOTATION] === incidentId) return { wasUnschedulable: false };
  if (node.spec?.unschedulable === true) return { wasUnschedulable: true };
  const body = {
    metadata: {
      resourceVersion: node.metadata?.resourceVersion,
      annotations: { [CORDONED_BY_ANNOTATION]: incidentId },
    },
    spec: { unschedulable: true },
  };
  await callKube(`cordon node ${name}`, () =>
    clients.core.patchNode({ name, body, dryRun: dryRunParam(dryRun) }, strategicMergePatch()),
  );
  return { wasUnschedulable: false };
}

export interface UncordonResult {
  /** True when this call made the node schedulable again. */
  uncordoned: boolean;
  unschedulable: boolean;
  dryRun: boolean;
}

/**
 * Makes a node schedulable again, but only when this incident cordoned it. A node that was cordoned before
 * the incident, or by someone else, stays cordoned.
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
    return { uncordoned: false, unschedulable, dryRun };
  }
  const body = {
    metadata: { resourceVersion: node.metadata?.resourceVersion, annotations: { [CORDONED_BY_ANNOTATION]: null } },
    spec: { unschedulable: null },
  };
  await callKube(`uncordon node ${name}`, () =>
    clients.core.patchNode({ name, body, dryRun: dryRunParam(dryRun) }, strategicMergePatch()),
  );
  return { uncordoned: true, unschedulable: false, dryRun };
}
