import { kubernetes } from './activities';
import type { IncidentState } from './state';
import { errorMessage, record } from './timeline';

/** Repository of an image reference, without tag or digest: `registry:5000/app:1.2` gives `registry:5000/app`. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastColon = withoutDigest.lastIndexOf(':');
  return lastColon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, lastColon) : withoutDigest;
}

async function rollOutContainer(
  state: IncidentState,
  container: string,
  imageDigest: string,
): Promise<string | undefined> {
  const target = state.target;
  const workload = target?.workload;
  if (target === undefined || workload === undefined) return undefined;
  const name = `${workload.kind}/${workload.name}`;
  const input = {
    incidentId: state.incidentId,
    namespace: target.namespace,
    kind: workload.kind,
    name: workload.name,
    container,
    imageDigest,
    dryRun: state.dryRun,
  };
  try {
    await kubernetes.restoreWorkload(input);
    record(state, 'step', `${name} container ${container} rolled out on ${imageDigest}`);
    return undefined;
  } catch (error) {
    record(state, 'error', `rolling out ${name} container ${container} on ${imageDigest} failed`, {
      error: errorMessage(error),
    });
    return `restoreWorkload ${container}: ${errorMessage(error)}`;
  }
}

interface Rollout {
  container: string;
  imageDigest: string;
}

/** Returns the rollouts that the restore approver's image digest requests, or why there are none. */
function personRollouts(state: IncidentState): Rollout[] | { error?: string; note?: string } {
  const images = state.target?.images ?? [];
  const named = state.gates.findLast((result) => result.gate === 'restore')?.imageDigest;
  if (named === undefined) {
    return { note: 'the restore approval named no image digest: roll the workload out on a trusted image by hand' };
  }
  const repository = imageRepository(named);
  const matching = images.filter((image) => imageRepository(image.image) === repository);
  if (matching.length === 0) {
    const containers = images.map((image) => `${image.container} (${imageRepository(image.image)})`).join(', ');
    return { error: `the approved image ${named} matches no container of the target: ${containers || 'none'}` };
  }
  return matching.map((image) => ({ container: image.container, imageDigest: named }));
}

/** Returns the rollouts from the playbook's list of trusted digests; containers without one keep their image. */
function playbookRollouts(state: IncidentState): Rollout[] {
  const rollouts: Rollout[] = [];
  for (const image of state.target?.images ?? []) {
    const repository = imageRepository(image.image);
    const digest = state.playbook?.restore.trustedImages[repository];
    if (digest === undefined) {
      record(state, 'note', `no trusted digest for ${repository}, so container ${image.container} keeps its image`);
    } else {
      rollouts.push({ container: image.container, imageDigest: `${repository}@${digest}` });
    }
  }
  return rollouts;
}

/**
 * Rolls the owner out on the trusted digests: the playbook's list, or the digest that the approver of the
 * restore gate named when the playbook's `trustedDigestSource` is `person`. Returns the failures.
 */
export async function rollOutTrustedImages(state: IncidentState): Promise<string[]> {
  if (state.playbook === undefined || state.target?.workload === undefined) return [];
  const rollouts =
    state.playbook.restore.trustedDigestSource === 'person' ? personRollouts(state) : playbookRollouts(state);
  if (!Array.isArray(rollouts)) {
    if (rollouts.note !== undefined) record(state, 'note', rollouts.note);
    if (rollouts.error !== undefined) record(state, 'error', rollouts.error);
    return rollouts.error === undefined ? [] : [rollouts.error];
  }
  const failures: string[] = [];
  for (const rollout of rollouts) {
    const failure = await rollOutContainer(state, rollout.container, rollout.imageDigest);
    if (failure !== undefined) failures.push(failure);
  }
  return failures;
}
