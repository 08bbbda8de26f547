import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { EvidenceStore } from './store';

/** `prevSha256` of the first custody entry of an incident. */
export const GENESIS_SHA256 = '0'.repeat(64);

/** The Kubernetes object (or other origin) that an artefact was taken from. */
export const evidenceSourceSchema = z.object({
  kind: z.string(),
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  container: z.string().optional(),
});
export type EvidenceSource = z.infer<typeof evidenceSourceSchema>;

export const collectorIdentitySchema = z.object({
  /** Kubernetes user that the collector authenticated as, or `local` for artefacts that used no cluster call. */
  kubernetesUser: z.string(),
  host: z.string(),
  workflowId: z.string().optional(),
  activityAttempt: z.number().int().optional(),
});
export type CollectorIdentity = z.infer<typeof collectorIdentitySchema>;

/** What a collector records about one artefact; the custody module adds sequence, time and hashes. */
export const custodyDraftSchema = z.object({
  name: z.string().min(1),
  sha256: z.string(),
  bytes: z.number().int().nonnegative(),
  contentType: z.string(),
  truncated: z.boolean(),
  incomplete: z.boolean(),
  /** True when secrets were replaced in the stored bytes; false when the playbook keeps them. */
  redacted: z.boolean(),
  /** Name of the artefact that this one is a redacted copy of. */
  redactedCopyOf: z.string().optional(),
  /** True when bytes that were not valid UTF-8 were replaced by U+FFFD in this copy. */
  lossy: z.boolean().optional(),
  /** True when the text contains control characters other than tab, line feed and carriage return (ANSI escapes). */
  controlCharacters: z.boolean().optional(),
  source: evidenceSourceSchema,
  collector: z.object({ name: z.string(), version: z.string() }),
  collectedBy: collectorIdentitySchema,
  /** Small collector-specific facts: exit codes, HTTP status, commands tried. */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type CustodyDraft = z.infer<typeof custodyDraftSchema>;

export const custodyEntrySchema = custodyDraftSchema.extend({
  seq: z.number().int().nonnegative(),
  incidentId: z.string(),
  collectedAt: z.string(),
  /** `entrySha256` of the entry before this one, or GENESIS_SHA256 for the first. */
  prevSha256: z.string(),
  /** SHA-256 of this entry's canonical JSON without this field. */
  entrySha256: z.string(),
});
export type CustodyEntry = z.infer<typeof custodyEntrySchema>;

/** JSON with object keys sorted at every level, so the same entry always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).filter(([, child]) => child !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, child]) => [key, sortKeys(child)]));
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Hash of an entry's canonical JSON, leaving out `entrySha256` itself. */
export function computeEntrySha256(entry: Omit<CustodyEntry, 'entrySha256'> & { entrySha256?: string }): string {
  const { entrySha256: _ignored, ...rest } = entry;
  return sha256Hex(canonicalJson(rest));
}

/** Sequence number and hash that the next entry links to, read from the last manifest line. */
function chainTail(manifestText: string): { nextSeq: number; prevSha256: string } {
  const lines = manifestText.split('\n').filter((line) => line.trim() !== '');
  const last = lines.at(-1);
  if (last === undefined) return { nextSeq: 0, prevSha256: GENESIS_SHA256 };
  const parsed = custodyEntrySchema.safeParse(safeJson(last));
  // A damaged last line still gets linked (by the hash of its text), and verify reports it.
  if (!parsed.success) return { nextSeq: lines.length, prevSha256: sha256Hex(last) };
  return { nextSeq: parsed.data.seq + 1, prevSha256: parsed.data.entrySha256 };
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Appends one custody entry for `incidentId`, linked to the entry before it, and returns it. */
export async function appendCustodyEntry(
  store: EvidenceStore,
  incidentId: string,
  draft: CustodyDraft,
  now: () => Date = () => new Date(),
): Promise<CustodyEntry> {
  const checked = custodyDraftSchema.parse(draft);
  let appended: CustodyEntry | undefined;
  await store.appendManifest(incidentId, (current) => {
    const tail = chainTail(current);
    const unsigned = {
      ...checked,
      seq: tail.nextSeq,
      incidentId,
      collectedAt: now().toISOString(),
      prevSha256: tail.prevSha256,
    };
    appended = { ...unsigned, entrySha256: computeEntrySha256(unsigned) };
    return canonicalJson(appended);
  });
  if (!appended) throw new Error(`custody entry for ${draft.name} in ${incidentId} was not written`);
  return appended;
}

/** Head and length of a custody chain: what a collection run records so that a later rewrite shows. */
export interface ChainSummary {
  /** `entrySha256` of the last line, or the SHA-256 of its text when the last line is not a valid entry. */
  headSha256?: string;
  entryCount: number;
}

export function summarizeChain(lines: ManifestLine[]): ChainSummary {
  const last = lines.at(-1);
  if (!last) return { entryCount: 0 };
  const headSha256 = 'entry' in last ? last.entry.entrySha256 : sha256Hex(last.text);
  return { headSha256, entryCount: lines.length };
}

/** One manifest line as read back: the parsed entry when it is valid, else the reason it is not. */
export type ManifestLine =
  | { lineNumber: number; text: string; entry: CustodyEntry }
  | { lineNumber: number; text: string; error: string; name?: string };

export function parseManifest(manifestText: string): ManifestLine[] {
  const lines: ManifestLine[] = [];
  manifestText.split('\n').forEach((text, index) => {
    if (text.trim() === '') return;
    const json = safeJson(text);
    const parsed = custodyEntrySchema.safeParse(json);
    if (parsed.success) {
      lines.push({ lineNumber: index + 1, text, entry: parsed.data });
      return;
    }
    const name = z.object({ name: z.string() }).safeParse(json);
    const error = json === undefined ? 'not valid JSON' : `invalid entry: ${z.prettifyError(parsed.error)}`;
    lines.push({ lineNumber: index + 1, text, error, ...(name.success ? { name: name.data.name } : {}) });
  });
  return lines;
}
