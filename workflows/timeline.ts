import type { TimelineEntry, TimelineKind } from '../domain/response';
import type { IncidentState } from './state';

/** Current workflow time as ISO 8601. Workflow time is deterministic: it replays to the same value. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** Milliseconds from workflow time until `iso`, never negative. */
export function msUntil(iso: string): number {
  return Math.max(0, Date.parse(iso) - Date.now());
}

/** ISO 8601 time `ms` milliseconds after `iso`. */
export function addMs(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

/**
 * Appends an entry to the incident timeline. The timeline keeps the latest `maxTimelineEntries`; older
 * entries are dropped and counted, so an alert storm cannot grow the state without bound.
 */
export function record(
  state: IncidentState,
  kind: TimelineKind,
  summary: string,
  data?: Record<string, unknown>,
): TimelineEntry {
  const entry: TimelineEntry =
    data === undefined ? { at: nowIso(), kind, summary } : { at: nowIso(), kind, summary, data };
  state.timeline.push(entry);

  const excess = state.timeline.length - state.limits.maxTimelineEntries;
  if (excess > 0) {
    state.timeline.splice(0, excess);
    state.timelineDropped += excess;
  }
  return entry;
}

/** Message of an error caught in workflow code, for the timeline. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
