import type { TimelineEntry, TimelineKind } from '../domain/response';
import { boundEntryData, cutToBytes, jsonBytes, maxSummaryBytes } from './bounds';
import type { IncidentState, LoggedEntry } from './state';

/** Current workflow time as ISO 8601. Workflow time is deterministic: it replays to the same value. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** Milliseconds from workflow time until `iso`, never negative. */
export function msUntil(iso: string): number {
  return Math.max(0, Date.parse(iso) - Date.now());
}

/**
 * Returns true when `at` has passed: by workflow time, or because the timer that waited for `firedFor` (a
 * time at or after `at`) fired. A fired timer counts on its own. A query that replays a fired timer on a
 * new worker resolves it at a workflow time that lags behind, and waiting again there would record a timer
 * that a later replay does not make.
 */
export function hasPassed(at: string, firedFor: string | undefined): boolean {
  return msUntil(at) === 0 || (firedFor !== undefined && at <= firedFor);
}

/** ISO 8601 time `ms` milliseconds after `iso`. */
export function addMs(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

/** Options of `record`: the list an entry is kept in. */
export interface RecordOptions {
  /** Keep the entry with the alert entries, which a storm may push out; for notes that alerts cause. */
  evictable?: boolean;
}

/** Drops the oldest entries until the list fits; returns the bytes left and how many were dropped. */
function dropOldest(list: LoggedEntry[], bytes: number, maxBytes: number, maxEntries: number) {
  let dropped = 0;
  while (list.length > 0 && (bytes > maxBytes || list.length > maxEntries)) {
    const oldest = list.shift();
    bytes -= oldest ? jsonBytes(oldest) : 0;
    dropped += 1;
  }
  return { bytes, dropped };
}

function append(state: IncidentState, entry: LoggedEntry, evictable: boolean): void {
  const { limits } = state;
  if (evictable) {
    state.timeline.push(entry);
    const kept = dropOldest(
      state.timeline,
      state.timelineBytes + jsonBytes(entry),
      limits.maxTimelineBytes,
      limits.maxTimelineEntries,
    );
    state.timelineBytes = kept.bytes;
    state.timelineDropped += kept.dropped;
    return;
  }
  state.audit.push(entry);
  const kept = dropOldest(state.audit, state.auditBytes + jsonBytes(entry), limits.maxAuditBytes, Infinity);
  state.auditBytes = kept.bytes;
  state.timelineDropped += kept.dropped;
}

/**
 * Appends an entry to the incident timeline, with its summary and data cut to a bounded size. Alert entries,
 * and notes recorded as evictable, share a list bounded by `maxTimelineEntries` and `maxTimelineBytes`.
 * Every other entry goes to the audit list bounded by `maxAuditBytes`, so an alert storm never evicts a
 * decision, a gate event or a containment step. Dropped entries are counted in `timelineDropped`.
 */
export function record(
  state: IncidentState,
  kind: TimelineKind,
  summary: string,
  data?: Record<string, unknown>,
  options: RecordOptions = {},
): TimelineEntry {
  state.entrySeq += 1;
  const base = { seq: state.entrySeq, at: nowIso(), kind, summary: cutToBytes(summary, maxSummaryBytes) };
  const entry: LoggedEntry = data === undefined ? base : { ...base, data: boundEntryData(data) };
  append(state, entry, kind === 'alert' || options.evictable === true);
  return withoutSeq(entry);
}

function withoutSeq(entry: LoggedEntry): TimelineEntry {
  const { seq: _seq, ...plain } = entry;
  return plain;
}

/** Returns the whole kept timeline in the order it was recorded. */
export function timelineEntries(state: IncidentState): TimelineEntry[] {
  return [...state.audit, ...state.timeline].sort((left, right) => left.seq - right.seq).map(withoutSeq);
}

/** Number of timeline entries ever recorded, kept or dropped. */
export function timelineLength(state: IncidentState): number {
  return state.entrySeq;
}

/** Message of an error caught in workflow code, for the timeline, cut to 2,000 bytes. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return cutToBytes(`${error.message}${cause}`, 2000);
  }
  return cutToBytes(String(error), 2000);
}
