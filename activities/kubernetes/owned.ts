import { ApplicationFailure } from '@temporalio/common';
import { callKube, callKubeUnlessNotFound, type RetryPolicy } from './client';
import { permanentFailure } from './errors';
import { INCIDENT_ANNOTATION, INCIDENT_LABEL, RUN_ANNOTATION, SPEC_HASH_ANNOTATION, specHash } from './labels';

/** The metadata fields that ownership checks read. */
export interface OwnedMeta {
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** An object as read back: its metadata and its spec. */
export interface StoredObject {
  metadata?: OwnedMeta;
  spec?: unknown;
}

/** How to create, read and delete one object with a deterministic name. */
export interface OwnedObject {
  /** Kind and `namespace/name`, for messages. */
  description: string;
  incidentId: string;
  /** The spec `create` sends; its `specHash` is in the object's `SPEC_HASH_ANNOTATION`. */
  spec: unknown;
  create(): Promise<StoredObject>;
  read(): Promise<StoredObject>;
  delete(uid: string): Promise<unknown>;
  retry: RetryPolicy;
}

/** Annotations that mark an object as created by Firebreak for an incident with a given spec. */
export function ownedAnnotations(incidentId: string, spec: unknown, runId: string | undefined): Record<string, string> {
  const annotations: Record<string, string> = {
    [INCIDENT_ANNOTATION]: incidentId,
    [SPEC_HASH_ANNOTATION]: specHash(spec),
  };
  if (runId) annotations[RUN_ANNOTATION] = runId;
  return annotations;
}

/**
 * Creates an object whose name is fixed per incident and returns its uid. When the name is taken (409), the
 * existing object counts as the result of an earlier attempt only when all of these hold:
 * - its labels and annotations name this incident;
 * - its recorded spec hash is the hash of the spec this call would create;
 * - its live spec still has that hash.
 * Anything else is someone else's object. The call then fails with a non-retryable `KubernetesConflict` and
 * leaves it unchanged, so a look-alike with an open spec is never taken for this incident's object.
 */
export async function createOwned(object: OwnedObject): Promise<{ created: boolean; uid: string | undefined }> {
  try {
    const created = await callKube(`create ${object.description}`, () => object.create(), object.retry);
    return { created: true, uid: created.metadata?.uid };
  } catch (error) {
    if (!(error instanceof ApplicationFailure) || error.type !== 'KubernetesConflict') throw error;
  }
  const existing = await callKube(`read ${object.description}`, () => object.read(), object.retry);
  const mismatch = ownershipMismatch(existing, object.incidentId, specHash(object.spec));
  if (mismatch === undefined) return { created: false, uid: existing.metadata?.uid };
  throw foreignObject(object.description, object.incidentId, existing.metadata, mismatch);
}

/**
 * Deletes an object that this incident created. Returns `absent` when it is already gone. Returns `foreign`,
 * and leaves the object in place, when an object of that name exists but its labels, annotations or recorded
 * spec hash do not prove it is this incident's.
 */
export async function deleteOwned(object: OwnedObject): Promise<'deleted' | 'absent' | 'foreign'> {
  const existing = await callKubeUnlessNotFound(`read ${object.description}`, () => object.read(), object.retry);
  if (!existing) return 'absent';
  const recordedHash = existing.metadata?.annotations?.[SPEC_HASH_ANNOTATION] ?? '';
  if (ownershipMismatch(existing, object.incidentId, recordedHash) !== undefined) return 'foreign';
  const uid = existing.metadata?.uid ?? '';
  const result = await callKubeUnlessNotFound(`delete ${object.description}`, () => object.delete(uid), object.retry);
  return result === undefined ? 'absent' : 'deleted';
}

/** Returns why an existing object is not this incident's object with the expected spec, or undefined when it is. */
function ownershipMismatch(existing: StoredObject, incidentId: string, expectedHash: string): string | undefined {
  const meta = existing.metadata;
  if (meta?.labels?.[INCIDENT_LABEL] !== incidentId) return `its ${INCIDENT_LABEL} label is not ${incidentId}`;
  if (meta.annotations?.[INCIDENT_ANNOTATION] !== incidentId) {
    return `its ${INCIDENT_ANNOTATION} annotation is not ${incidentId}`;
  }
  if (meta.annotations[SPEC_HASH_ANNOTATION] !== expectedHash) {
    return 'its recorded spec hash is not the hash of the spec this call creates';
  }
  if (specHash(existing.spec) !== expectedHash) return 'its spec was changed after it was created';
  return undefined;
}

function foreignObject(
  description: string,
  incidentId: string,
  meta: OwnedMeta | undefined,
  mismatch: string,
): ApplicationFailure {
  return permanentFailure(
    'KubernetesConflict',
    `${description} already exists but is not the object Firebreak creates for ${incidentId} (${mismatch}): ` +
      'it was left unchanged; find out who created it, remove it by hand and retry',
    { uid: meta?.uid, labels: meta?.labels ?? {} },
  );
}
