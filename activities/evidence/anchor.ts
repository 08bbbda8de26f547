import { z } from 'zod';
import { parseManifest, safeJson, summarizeChain, type ChainSummary, type ManifestLine } from './custody';
import type { EvidenceStore } from './store';

/**
 * Anchors of the custody chain. Each entry links to the one before it, so an edit shows, but someone who can
 * write the store can rewrite the whole chain consistently. A head recorded outside the manifest catches that.
 * The head log in the store is a first check only, because the same person can rewrite it. The head that the
 * workflow keeps in Temporal's history and in the incident record is the authoritative one.
 */

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);

const headLogLineSchema = z.object({
  at: z.string(),
  headSha256: sha256Schema,
  entryCount: z.number().int().positive(),
});

/** A chain head recorded outside the manifest, and where it was recorded (for messages). */
export interface ChainAnchor {
  headSha256: string;
  /** Entries of the chain when the head was recorded; when absent only the last entry's hash is compared. */
  entryCount?: number;
  source: string;
}

/** The custody head that the incident record keeps in `evidence.custodyHeadSha256` and `evidence.custodyEntryCount`. */
export const recordCustodyHeadSchema = z.object({
  custodyHeadSha256: sha256Schema,
  custodyEntryCount: z.number().int().positive().optional(),
});
export type RecordCustodyHead = z.infer<typeof recordCustodyHeadSchema>;

const recordWithHeadSchema = z.object({ evidence: recordCustodyHeadSchema.loose() }).loose();

/** Reads the custody head from an incident record (parsed JSON), or returns undefined when it has none. */
export function custodyHeadOfRecord(record: unknown): RecordCustodyHead | undefined {
  const parsed = recordWithHeadSchema.safeParse(record);
  if (!parsed.success) return undefined;
  const { custodyHeadSha256, custodyEntryCount } = parsed.data.evidence;
  return { custodyHeadSha256, ...(custodyEntryCount === undefined ? {} : { custodyEntryCount }) };
}

/** Appends the chain's current head and length to the incident's head log and returns them; an empty chain is not logged. */
export async function recordChainHead(
  store: EvidenceStore,
  incidentId: string,
  now: () => Date = () => new Date(),
): Promise<ChainSummary> {
  let summary: ChainSummary = { entryCount: 0 };
  await store.appendHeadLog(incidentId, (manifest) => {
    summary = summarizeChain(parseManifest(manifest));
    if (summary.entryCount === 0) return undefined;
    return JSON.stringify({ at: now().toISOString(), headSha256: summary.headSha256, entryCount: summary.entryCount });
  });
  return summary;
}

/** Problem found by an anchor check; the caller names it `(manifest)` or `(head log)`. */
export interface AnchorProblem {
  lineNumber?: number;
  problem: string;
}

/**
 * Compares the chain with a recorded anchor and names what changed. With an entry count, the entry at that
 * position must carry the recorded hash and no entry may follow it: fewer entries means the chain was cut
 * back, another hash that it was rewritten, more entries that some were added after the head was recorded.
 * Without a count, the recorded hash must be the last entry's.
 */
export function checkAnchor(lines: ManifestLine[], anchor: ChainAnchor): AnchorProblem[] {
  const actual = summarizeChain(lines);
  const recorded = `the head recorded in ${anchor.source} is ${anchor.headSha256}`;
  const found = `the manifest has ${actual.entryCount} entries`;
  if (anchor.entryCount === undefined) {
    if (actual.headSha256 === anchor.headSha256) return [];
    const position = lines.findIndex((line) => 'entry' in line && line.entry.entrySha256 === anchor.headSha256);
    if (position >= 0) {
      return [{ problem: `entries added after the recorded head: ${recorded}, entry ${position + 1}, and ${found}` }];
    }
    return [{ problem: `chain rewritten: ${recorded}, which no entry of the manifest carries (${found})` }];
  }

  const count = anchor.entryCount;
  const atCount = summarizeChain(lines.slice(0, count));
  const recordedAt = `${recorded} with ${count} entries`;
  if (actual.entryCount < count) {
    return [{ problem: `chain cut back: ${recordedAt}, but ${found} with head ${actual.headSha256 ?? 'none'}` }];
  }
  if (atCount.headSha256 !== anchor.headSha256) {
    return [
      { problem: `chain rewritten: ${recordedAt}, but entry ${count} of the manifest has hash ${atCount.headSha256}` },
    ];
  }
  if (actual.entryCount > count) {
    return [{ problem: `entries added after the recorded head: ${recordedAt}, but ${found}` }];
  }
  return [];
}

/**
 * Checks every line of the store's head log against the chain. Later runs append entries, so a logged head
 * must match the entry at its own position, not the chain's current end.
 */
export function checkHeadLog(lines: ManifestLine[], headLog: string): AnchorProblem[] {
  const problems: AnchorProblem[] = [];
  headLog.split('\n').forEach((text, index) => {
    if (text.trim() === '') return;
    const lineNumber = index + 1;
    const parsed = headLogLineSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      problems.push({ lineNumber, problem: 'head log line is unreadable' });
      return;
    }
    const { headSha256, entryCount, at } = parsed.data;
    const prefix = summarizeChain(lines.slice(0, entryCount));
    if (prefix.entryCount === entryCount && prefix.headSha256 === headSha256) return;
    const recorded = `the head logged at ${at} is ${headSha256} with ${entryCount} entries`;
    const problem =
      prefix.entryCount < entryCount
        ? `chain cut back: ${recorded}, but the manifest has ${prefix.entryCount} entries`
        : `chain rewritten: ${recorded}, but entry ${entryCount} of the manifest has hash ${prefix.headSha256}`;
    problems.push({ lineNumber, problem });
  });
  return problems;
}
