import type { RestoreWorkloadInput, RolloutInput } from '../../domain/response';
import { retryOnConflict, type KubeClients } from './client';
import { permanentFailure } from './errors';
import { parseInput, restoreWorkloadInputSchema, rolloutInputSchema } from './inputs';
import { PAUSED_BY_ANNOTATION, RESTORED_FOR_ANNOTATION } from './labels';
import { workloadApi } from './workload-api';

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
