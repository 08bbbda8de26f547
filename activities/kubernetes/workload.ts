import type { V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';
import { z } from 'zod';
import type {
  RestoreWorkloadInput,
  RolloutInput,
  ScaleWorkloadInput,
  ScaleWorkloadResult,
} from '../../domain/response';
import { callKube, dryRunParam, retryOnConflict, strategicMergePatch, type KubeClients } from './client';
import { permanentFailure } from './errors';
import { parseInput, restoreWorkloadInputSchema, rolloutInputSchema, scaleWorkloadInputSchema } from './inputs';
import { PAUSED_BY_ANNOTATION, PREVIOUS_REPLICAS_ANNOTATION, RESTORED_FOR_ANNOTATION } from './labels';

type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

interface Workload {
  metadata?: V1ObjectMeta;
  spec?: { replicas?: number; template: V1PodTemplateSpec; paused?: boolean };
}

/** Reads and patches one apps/v1 workload; patches are strategic merge patches. */
function workloadApi(clients: KubeClients, kind: WorkloadKind, namespace: string, name: string, dryRun: boolean) {
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

const replicaRecordSchema = z.object({ incidentId: z.string(), replicas: z.number().int().nonnegative() });

function replicaRecord(meta: V1ObjectMeta | undefined): z.infer<typeof replicaRecordSchema> | undefined {
  const text = meta?.annotations?.[PREVIOUS_REPLICAS_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const parsed = replicaRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sets the replica count of a Deployment or StatefulSet. The first change records the count from before the
 * incident in an annotation, so a retried call returns that recorded count. The inverse call, with the
 * recorded count, restores it and removes the annotation.
 */
export async function scaleWorkload(clients: KubeClients, raw: ScaleWorkloadInput): Promise<ScaleWorkloadResult> {
  const input = parseInput(scaleWorkloadInputSchema, raw, 'scaleWorkload');
  const api = workloadApi(clients, input.kind, input.namespace, input.name, input.dryRun);
  return retryOnConflict(async () => {
    const workload = await api.read();
    const current = workload.spec?.replicas ?? 1;
    const record = replicaRecord(workload.metadata);
    const ours = record?.incidentId === input.incidentId;
    const previousReplicas = ours ? record.replicas : current;
    const restoring = ours && input.replicas === record.replicas;
    if (current === input.replicas && !restoring) return { previousReplicas };

    let annotation: string | null | undefined;
    if (restoring) annotation = null;
    else if (!record) annotation = JSON.stringify({ incidentId: input.incidentId, replicas: current });
    const annotations = annotation === undefined ? {} : { [PREVIOUS_REPLICAS_ANNOTATION]: annotation };
    const metadata = { resourceVersion: workload.metadata?.resourceVersion, annotations };
    await api.patch('scale', { metadata, spec: { replicas: input.replicas } });
    return { previousReplicas };
  });
}

export interface PauseResult {
  wasPaused: boolean;
  dryRun: boolean;
}

/** Pauses a Deployment's rollout; records the incident so that `resumeRollout` resumes only its own pause. */
export async function pauseRollout(clients: KubeClients, raw: RolloutInput): Promise<PauseResult> {
  const input = parseInput(rolloutInputSchema, raw, 'pauseRollout');
  const api = workloadApi(clients, 'Deployment', input.namespace, input.name, input.dryRun);
  return retryOnConflict(async () => {
    const deployment = await api.read();
    if (deployment.metadata?.annotations?.[PAUSED_BY_ANNOTATION] === input.incidentId) {
      return { wasPaused: false, dryRun: input.dryRun };
    }
    if (deployment.spec?.paused === true) return { wasPaused: true, dryRun: input.dryRun };
    const annotations = { [PAUSED_BY_ANNOTATION]: input.incidentId };
    const metadata = { resourceVersion: deployment.metadata?.resourceVersion, annotations };
    await api.patch('pause rollout of', { metadata, spec: { paused: true } });
    return { wasPaused: false, dryRun: input.dryRun };
  });
}

export interface ResumeResult {
  resumed: boolean;
  paused: boolean;
  dryRun: boolean;
}

/** Resumes a rollout that this incident paused; a pause from before the incident stays. */
export async function resumeRollout(clients: KubeClients, raw: RolloutInput): Promise<ResumeResult> {
  const input = parseInput(rolloutInputSchema, raw, 'resumeRollout');
  const api = workloadApi(clients, 'Deployment', input.namespace, input.name, input.dryRun);
  return retryOnConflict(async () => {
    const deployment = await api.read();
    const paused = deployment.spec?.paused === true;
    if (deployment.metadata?.annotations?.[PAUSED_BY_ANNOTATION] !== input.incidentId) {
      return { resumed: false, paused, dryRun: input.dryRun };
    }
    const annotations = { [PAUSED_BY_ANNOTATION]: null };
    const metadata = { resourceVersion: deployment.metadata?.resourceVersion, annotations };
    await api.patch('resume rollout of', { metadata, spec: { paused: null } });
    return { resumed: true, paused: false, dryRun: input.dryRun };
  });
}

export interface RestoreResult {
  previousImage: string;
  image: string;
  /** False when a retried call found the restore already applied. */
  rolledOut: boolean;
  /** True when the Deployment's rollout is paused, so the new pods wait for `resumeRollout`. */
  paused: boolean;
  dryRun: boolean;
}

/**
 * Rolls a workload out again with one container on a trusted image digest. The pod template also gets the
 * incident id as an annotation, so the rollout replaces every pod even when the image was already that digest.
 */
export async function restoreWorkload(clients: KubeClients, raw: RestoreWorkloadInput): Promise<RestoreResult> {
  const input = parseInput(restoreWorkloadInputSchema, raw, 'restoreWorkload');
  const api = workloadApi(clients, input.kind, input.namespace, input.name, input.dryRun);
  const workload = await api.read();
  const containers = workload.spec?.template.spec?.containers ?? [];
  const container = containers.find((candidate) => candidate.name === input.container);
  if (!container) {
    const names = containers.map((candidate) => candidate.name).join(', ');
    throw permanentFailure(
      'KubernetesInvalid',
      `${input.kind} ${input.namespace}/${input.name} has no container ${input.container} (it has: ${names}): ` +
        'name one of its containers',
    );
  }
  const previousImage = container.image ?? '';
  const paused = workload.spec?.paused === true;
  const marked = workload.spec?.template.metadata?.annotations?.[RESTORED_FOR_ANNOTATION] === input.incidentId;
  if (marked && previousImage === input.imageDigest) {
    return { previousImage, image: input.imageDigest, rolledOut: false, paused, dryRun: input.dryRun };
  }
  const template = {
    metadata: { annotations: { [RESTORED_FOR_ANNOTATION]: input.incidentId } },
    spec: { containers: [{ name: input.container, image: input.imageDigest }] },
  };
  await api.patch('restore', { spec: { template } });
  return { previousImage, image: input.imageDigest, rolledOut: true, paused, dryRun: input.dryRun };
}
