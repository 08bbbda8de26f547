import { z } from 'zod';
import type { CustodyEntry } from '../evidence/custody';

/**
 * Plain state of one artefact in the report. `stopped`: the collector's deadline ended it and the output
 * received until then was kept. `partial`: part of the source is missing for another reason. `truncated`: the
 * size limit cut it. `unsupported`: the cluster does not offer this kind of evidence. `failed`: the artefact
 * records a collection that did not succeed.
 */
export const artefactStates = ['complete', 'truncated', 'partial', 'stopped', 'unsupported', 'failed'] as const;
export type ArtefactState = (typeof artefactStates)[number];

export interface ArtefactStatus {
  state: ArtefactState;
  /** Reason the artefact is not complete, in words taken from its custody entry; absent when it is complete. */
  reason?: string;
}

const attemptSchema = z.object({ status: z.string().optional(), message: z.string().optional() });
const detailsSchema = z
  .object({
    failed: z.boolean(),
    unsupported: z.boolean(),
    outcome: z.string(),
    httpStatus: z.number(),
    maxBytes: z.number(),
    maxEvents: z.number(),
    archiveNotFetched: z.string(),
    unreadable: z.array(z.unknown()),
    attempts: z.array(z.unknown()),
  })
  .partial();
type Details = z.infer<typeof detailsSchema>;

/** Reads the state of an artefact from its custody entry: failed, unsupported, stopped, truncated, partial or complete. */
export function artefactStatusOf(entry: Pick<CustodyEntry, 'truncated' | 'incomplete' | 'details'>): ArtefactStatus {
  const parsed = detailsSchema.safeParse(entry.details ?? {});
  const details: Details = parsed.success ? parsed.data : {};
  const outcome = details.outcome ?? httpOutcome(details);

  if (details.failed === true) return { state: 'failed', reason: outcome ?? 'the collection failed' };
  if (details.unsupported === true) return { state: 'unsupported', reason: outcome ?? 'not offered by the cluster' };
  const lastAttempt = attemptSchema.safeParse(details.attempts?.at(-1));
  const attempt = lastAttempt.success ? lastAttempt.data : {};
  if (attempt.status === 'DeadlineExceeded') {
    return { state: 'stopped', reason: attempt.message ?? 'the collector deadline passed' };
  }
  if (entry.truncated) {
    const limit = details.maxBytes === undefined ? 'the artefact size limit' : `the ${details.maxBytes}-byte limit`;
    return { state: 'truncated', reason: `cut at ${limit}` };
  }
  if (entry.incomplete) return { state: 'partial', reason: partialReason(details, attempt) };
  return { state: 'complete' };
}

/** Status of an artefact known only from the workflow record, which keeps flags but no details. */
export function artefactStatusOfRef(ref: { incomplete?: boolean; truncated?: boolean; unsupported?: boolean }) {
  if (ref.unsupported) return { state: 'unsupported', reason: 'not offered by the cluster' } satisfies ArtefactStatus;
  if (ref.truncated) return { state: 'truncated', reason: 'cut at a size limit' } satisfies ArtefactStatus;
  if (ref.incomplete) {
    return {
      state: 'partial',
      reason: 'marked incomplete; the custody manifest has the details',
    } satisfies ArtefactStatus;
  }
  return { state: 'complete' } satisfies ArtefactStatus;
}

function httpOutcome(details: Details): string | undefined {
  return details.httpStatus === undefined || details.httpStatus === 200 ? undefined : `HTTP ${details.httpStatus}`;
}

function partialReason(details: Details, attempt: z.infer<typeof attemptSchema>): string {
  if (attempt.message !== undefined) return attempt.message;
  if (details.outcome !== undefined) return details.outcome;
  if (details.archiveNotFetched !== undefined) return `checkpoint archive not fetched: ${details.archiveNotFetched}`;
  if (details.maxEvents !== undefined) return `only the first ${details.maxEvents} events were read`;
  if (details.unreadable !== undefined) return `${details.unreadable.length} bindings could not be read`;
  return 'the collector marked it incomplete';
}
