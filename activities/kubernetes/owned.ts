import type { V1ObjectMeta } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { callKube, callKubeUnlessNotFound, type RetryPolicy } from './client';
import { permanentFailure } from './errors';
import { INCIDENT_LABEL, isOwnedBy } from './labels';

interface WithMeta {
  metadata?: V1ObjectMeta;
}

/** How to create, read and delete one object with a deterministic name. */
export interface OwnedObject<T extends WithMeta> {
  /** Kind and `namespace/name`, for messages. */
  description: string;
  incidentId: string;
  create(): Promise<unknown>;
  read(): Promise<T>;
  delete(uid: string): Promise<unknown>;
  retry: RetryPolicy;
}

/**
 * Creates an object whose name is fixed per incident. When the name is taken (409), reads the object: when it
 * carries this incident's label the earlier attempt created it and the call is done; otherwise it belongs to
 * someone else and the call fails with a non-retryable `KubernetesConflict` without touching it.
 */
export async function createOwned<T extends WithMeta>(object: OwnedObject<T>): Promise<{ created: boolean }> {
  try {
    await callKube(`create ${object.description}`, () => object.create(), object.retry);
    return { created: true };
  } catch (error) {
    if (!(error instanceof ApplicationFailure) || error.type !== 'KubernetesConflict') throw error;
  }
  const existing = await callKube(`read ${object.description}`, () => object.read(), object.retry);
  if (isOwnedBy(existing.metadata?.labels, object.incidentId)) return { created: false };
  throw foreignObject(object.description, object.incidentId, existing.metadata);
}

/**
 * Deletes an object that this incident created. Returns `absent` when it is already gone and `foreign` when
 * an object of that name exists but is not this incident's; a foreign object is left in place.
 */
export async function deleteOwned<T extends WithMeta>(
  object: OwnedObject<T>,
): Promise<'deleted' | 'absent' | 'foreign'> {
  const existing = await callKubeUnlessNotFound(`read ${object.description}`, () => object.read(), object.retry);
  if (!existing) return 'absent';
  if (!isOwnedBy(existing.metadata?.labels, object.incidentId)) return 'foreign';
  const uid = existing.metadata?.uid ?? '';
  const result = await callKubeUnlessNotFound(`delete ${object.description}`, () => object.delete(uid), object.retry);
  return result === undefined ? 'absent' : 'deleted';
}

function foreignObject(description: string, incidentId: string, meta: V1ObjectMeta | undefined): ApplicationFailure {
  const owner = meta?.labels?.[INCIDENT_LABEL];
  const holder = owner ? `incident ${owner}` : 'an object Firebreak did not create';
  return permanentFailure(
    'KubernetesConflict',
    `${description} already exists and belongs to ${holder}, not ${incidentId}: ` +
      'it was left unchanged, rename or remove it by hand and retry',
    { uid: meta?.uid, labels: meta?.labels ?? {} },
  );
}
