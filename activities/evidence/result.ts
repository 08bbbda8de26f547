import type { ArtefactRef } from './artefacts';

/** Upper bound on the JSON size of an activity result, far below Temporal's payload limits. */
export const MAX_RESULT_BYTES = 4096;

export interface CollectEvidenceOutput {
  manifestPath: string;
  artefacts: ArtefactRef[];
  /**
   * `entrySha256` of the last custody entry after this run. Kept outside the store (workflow history, incident
   * record `evidence.custodyHeadSha256`), it lets `firebreak evidence verify` detect a rewritten chain.
   */
  custodyHeadSha256?: string;
  /** Entries in the custody chain after this run, kept beside the head (`evidence.custodyEntryCount`). */
  custodyEntryCount?: number;
  /** Artefacts left out of `artefacts` to keep the result small; the manifest lists all of them. */
  omittedArtefacts?: number;
}

/**
 * Keeps the result under MAX_RESULT_BYTES: redacted copies are left out first (the manifest names them),
 * then artefacts from the end of the list.
 */
export function fitResult(output: CollectEvidenceOutput): CollectEvidenceOutput {
  const size = (candidate: CollectEvidenceOutput) => Buffer.byteLength(JSON.stringify(candidate), 'utf8');
  if (size(output) <= MAX_RESULT_BYTES) return output;

  const primary = output.artefacts.filter((ref) => !ref.name.endsWith('.redacted'));
  const kept = [...primary];
  const fitted = () => ({ ...output, artefacts: kept, omittedArtefacts: output.artefacts.length - kept.length });
  while (kept.length > 0 && size(fitted()) > MAX_RESULT_BYTES) kept.pop();
  return fitted();
}
