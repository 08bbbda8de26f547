import type { V1LabelSelector } from '@kubernetes/client-node';
import { callKube, type KubeClients } from './client';
import { selectorMatches } from './labels';

/** A controller in the pod's namespace whose selector matches a set of pod labels. */
export interface SelectingController {
  kind: string;
  name: string;
}

interface Listed {
  items: { metadata?: { name?: string }; spec?: { selector?: V1LabelSelector } }[];
}

/**
 * Lists the controllers in a namespace that adopt orphan pods (ReplicaSets, StatefulSets, DaemonSets, Jobs
 * and ReplicationControllers) and returns those whose selector matches `labels`. A pod with these labels and
 * no controller would be adopted by one of them. Deployments and CronJobs are absent because they adopt
 * ReplicaSets and Jobs, not pods.
 */
export async function controllersSelecting(
  clients: KubeClients,
  namespace: string,
  labels: Record<string, string>,
): Promise<SelectingController[]> {
  const listers: [string, () => Promise<Listed>][] = [
    ['ReplicaSet', () => clients.apps.listNamespacedReplicaSet({ namespace })],
    ['StatefulSet', () => clients.apps.listNamespacedStatefulSet({ namespace })],
    ['DaemonSet', () => clients.apps.listNamespacedDaemonSet({ namespace })],
    ['Job', () => clients.batch.listNamespacedJob({ namespace })],
  ];
  const selecting: SelectingController[] = [];
  for (const [kind, list] of listers) {
    const listed = await callKube(`list ${kind}s in namespace ${namespace}`, list);
    for (const item of listed.items) {
      if (selectorMatches(item.spec?.selector, labels)) selecting.push({ kind, name: item.metadata?.name ?? '' });
    }
  }
  const controllers = await callKube(`list ReplicationControllers in namespace ${namespace}`, () =>
    clients.core.listNamespacedReplicationController({ namespace }),
  );
  for (const controller of controllers.items) {
    // The API server defaults an empty ReplicationController selector to the template labels, so no empty map
    // is expected here. `selectorMatches` would treat one as matching everything, which errs on the safe side.
    if (selectorMatches({ matchLabels: controller.spec?.selector }, labels)) {
      selecting.push({ kind: 'ReplicationController', name: controller.metadata?.name ?? '' });
    }
  }
  return selecting;
}
