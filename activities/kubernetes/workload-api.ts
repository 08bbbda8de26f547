import type { V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';
import { callKube, dryRunParam, strategicMergePatch, type KubeClients } from './client';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

interface Workload {
  metadata?: V1ObjectMeta;
  spec?: { replicas?: number; template: V1PodTemplateSpec; paused?: boolean };
}

/** Reads and patches one apps/v1 workload; patches are strategic merge patches. */
export function workloadApi(
  clients: KubeClients,
  kind: WorkloadKind,
  namespace: string,
  name: string,
  dryRun: boolean,
) {
  const description = `${kind} ${namespace}/${name}`;
  const request = { namespace, name };
  const options = strategicMergePatch();
  const patchRequest = (body: object) => ({ ...request, body, dryRun: dryRunParam(dryRun) });
  const readers: Record<WorkloadKind, () => Promise<Workload>> = {
    Deployment: () => clients.apps.readNamespacedDeployment(request),
    StatefulSet: () => clients.apps.readNamespacedStatefulSet(request),
    DaemonSet: () => clients.apps.readNamespacedDaemonSet(request),
  };
  const patchers: Record<WorkloadKind, (body: object) => Promise<unknown>> = {
    Deployment: (body) => clients.apps.patchNamespacedDeployment(patchRequest(body), options),
    StatefulSet: (body) => clients.apps.patchNamespacedStatefulSet(patchRequest(body), options),
    DaemonSet: (body) => clients.apps.patchNamespacedDaemonSet(patchRequest(body), options),
  };
  return {
    read: () => callKube(`read ${description}`, readers[kind]),
    patch: (action: string, body: object) => callKube(`${action} ${description}`, () => patchers[kind](body)),
  };
}
