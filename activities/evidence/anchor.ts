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

/**
 * Problem found by an anchor check. One with `artefact` concerns that custody entry and its `lineNumber` is the
 * manifest line; the caller names the others `(manifest)` or `(head log)`.
 */
export interface AnchorProblem {
  artefact?: string;
  lineNumber?: number;
  problem: string;
}

/**
 * Compares the chain with a recorded anchor and names what changed. With an entry count, the entry at that
 * position must carry the recorded hash and no entry may follow it. Fewer entries mean the chain was cut
 * back, another hash means it was rewritten, and more entries mean some were added after the head was recorded.
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
 * must match the entry at its own position, not the chain's current end. Entries past the head of the last
 * line were added after it was logged, so they fail. When a logged head does not match, every entry after the
 * last matching head fails too, because a rewrite with every later hash recomputed can be anywhere in them.
 */
export function checkHeadLog(lines: ManifestLine[], headLog: string): AnchorProblem[] {
  const problems: AnchorProblem[] = [];
  let matchedCount = 0;
  let firstMismatch: { entryCount: number; at: string } | undefined;
  let lastLogged: { entryCount: number; at: string } | undefined;
  headLog.split('\n').forEach((text, index) => {
    if (text.trim() === '') return;
    const lineNumber = index + 1;
    const parsed = headLogLineSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      problems.push({ lineNumber, problem: 'head log line is unreadable' });
      return;
    }
    const { headSha256, entryCount, at } = parsed.data;
    lastLogged = { entryCount, at };
    const prefix = summarizeChain(lines.slice(0, entryCount));
    if (prefix.entryCount === entryCount && prefix.headSha256 === headSha256) {
      if (!firstMismatch) matchedCount = Math.max(matchedCount, entryCount);
      return;
    }
    const recorded = `the head logged at ${at} is ${headSha256} with ${entryCount} entries`;
    if (prefix.entryCount < entryCount) {
      problems.push({
        lineNumber,
        problem: `chain cut back: ${recorded}, but the manifest has ${prefix.entryCount} entries`,
      });
      return;
    }
    problems.push({
      lineNumber,
      problem: `chain rewritten: ${recorded}, but entry ${entryCount} of the manifest has hash ${prefix.headSha256}`,
    });
    firstMismatch ??= { entryCount, at };
  });
  if (firstMismatch) {
    problems.push(...suspectEntries(lines, matchedCount, firstMismatch));
  } else if (lastLogged && lines.length > lastLogged.entryCount) {
    problems.push(unloggedEntry(lines, lastLogged));
  }
  return problems;
}

/** Lists each entry from position `fromIndex` on as suspect, because one of them was rewritten and the rest re-hashed. */
function suspectEntries(
  lines: ManifestLine[],
  fromIndex: number,
  mismatch: { entryCount: number; at: string },
): AnchorProblem[] {
  const range = `entries ${fromIndex + 1} to ${mismatch.entryCount}`;
  return lines.slice(fromIndex).map((line, offset) => ({
    artefact: manifestLineName(line),
    lineNumber: line.lineNumber,
    problem:
      `custody entry ${fromIndex + offset + 1} may have been rewritten: the head logged at ${mismatch.at} no ` +
      `longer matches, and the change lies in ${range} with every later hash recomputed`,
  }));
}

/** Reports the first entry past the head of the last head log line. */
function unloggedEntry(lines: ManifestLine[], lastLogged: { entryCount: number; at: string }): AnchorProblem {
  const first = lines[lastLogged.entryCount];
  const added = lines.length - lastLogged.entryCount;
  return {
    ...(first ? { artefact: manifestLineName(first), lineNumber: first.lineNumber } : {}),
    problem:
      `custody entry ${lastLogged.entryCount + 1} was added after the last logged head: the head logged at ` +
      `${lastLogged.at} has ${lastLogged.entryCount} entries, but the manifest has ${added} more`,
  };
}

function manifestLineName(line: ManifestLine): string {
  if ('entry' in line) return line.entry.name;
  return line.name ?? `(line ${line.lineNumber})`;
}
