import { log } from '@temporalio/workflow';
import { alertBatchSchema, type AlertBatch } from '../domain/incident';
import { cutToBytes } from './bounds';
import type { IncidentState } from './state';
import { record } from './timeline';

/** Size of the zod message kept on the timeline for a dropped signal; the payload itself is never kept. */
const maxIssueBytes = 512;
/** Issues of one invalid payload that the timeline entry names. */
const maxIssues = 3;

/** Describes why a payload is not an alert batch: the first issues as `path: message`, cut short. */
function issueSummary(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const named = issues
    .slice(0, maxIssues)
    .map((issue) => `${issue.path.map(String).join('.') || 'batch'}: ${issue.message}`);
  const more = issues.length > maxIssues ? ` (and ${issues.length - maxIssues} more issues)` : '';
  return `${cutToBytes(named.join('; '), maxIssueBytes)}${more}`;
}

/**
 * Records a dropped signal. The first goes to the audit list. Later ones are counted, and only the 2nd,
 * 4th, 8th and so on are recorded, in the evictable list. A flood of bad signals thus adds few entries
 * and never pushes a decision out of the audit list.
 */
function recordInvalidBatch(state: IncidentState, issues: string): void {
  const dropped = (state.alerts.invalidSignals ?? 0) + 1;
  state.alerts.invalidSignals = dropped;
  if (dropped === 1) {
    record(state, 'error', `dropped an invalid alerts signal: ${issues}`, { dropped });
    log.warn('Invalid alerts signal dropped', { incidentId: state.incidentId, dropped, issues });
    return;
  }
  if ((dropped & (dropped - 1)) !== 0) return;
  log.warn('Invalid alerts signals dropped', { incidentId: state.incidentId, dropped, issues });
  const summary = `dropped ${dropped} invalid alerts signals so far; the latest: ${issues}`;
  record(state, 'error', summary, { dropped }, { evictable: true });
}

/**
 * Records, once, that the list of users who triggered the incident became incomplete, so a gate with
 * `forbidTriggerer` forbids only the users recorded before that.
 */
function recordTriggerersIncomplete(state: IncidentState, wasIncomplete: boolean): void {
  const reason = state.alerts.triggerersIncomplete;
  if (wasIncomplete || reason === undefined) return;
  const kept = state.alerts.triggerers.length;
  record(
    state,
    'note',
    `the list of users who triggered this incident is incomplete (${reason}): forbidTriggerer gates forbid ` +
      `only the first ${kept} users recorded`,
    { recordedUsers: kept },
  );
}

/**
 * Handles the payload of an `alerts` signal. The payload comes from any client that can signal the
 * workflow, so it is parsed with `alertBatchSchema` before it touches the state. A valid batch goes to
 * `addBatch`. An invalid one is recorded as an error (the zod issues, never the payload) and dropped,
 * because throwing here would fail every workflow task and the signal would replay into each of them.
 */
export function receiveAlertSignal(
  state: IncidentState,
  payload: unknown,
  addBatch: (batch: AlertBatch) => void,
): void {
  const parsed = alertBatchSchema.safeParse(payload);
  if (!parsed.success) {
    recordInvalidBatch(state, issueSummary(parsed.error.issues));
    return;
  }
  const wasIncomplete = state.alerts.triggerersIncomplete !== undefined;
  addBatch(parsed.data);
  recordTriggerersIncomplete(state, wasIncomplete);
}
