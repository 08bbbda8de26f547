import { condition, patched } from '@temporalio/workflow';
import type { Alert, Severity } from '../domain/alert';
import type { Playbook } from '../domain/playbook';
import { classifySeverity, playbookClaims, severityAtLeast } from '../domain/playbook-match';
import type { SelectPlaybookResult } from '../domain/response';
import { playbooks } from './activities';
import { compactAlert, raiseSeverity } from './alerts';
import { cutToBytes, shortHash } from './bounds';
import { publishIncident } from './search-attributes';
import type { IncidentState } from './state';
import { errorMessage, nowIso, record } from './timeline';

/**
 * Rating of later firing alerts by the playbook that would claim them. The signal handler queues each alert
 * that the incident's current playbook does not claim. A loop outside the handler rates the queue in batches
 * with the `selectPlaybook` activity, because workflow code must not read playbook files. When the claiming
 * playbook rates an alert worse than the incident, the severity rises and the incident adopts that playbook's
 * gates, containment and eradication from then on.
 */

/**
 * Maximum playbook changes in one incident; later worse ratings raise the severity only. Severity rises through
 * four levels, so three changes could happen without this bound.
 */
export const maxPlaybookSwitches = 2;
/**
 * Maximum alerts one incident rates with `selectPlaybook`, across continue-as-new. A batch still running when
 * the run continues as new is rated again by the next run and counted once.
 */
export const maxRatingCalls = 24;
/** Maximum alerts rated in one batch; the batch's calls run at the same time. */
export const maxAlertsPerBatch = 4;
/** Maximum alerts waiting for a rating; each is a compact copy of up to about 25 KB in the state. */
const maxQueuedAlerts = 2 * maxAlertsPerBatch;

/** Patch id that guards the rating calls, so histories recorded before them replay unchanged. */
const ratingPatch = 'rate-alerts-by-claiming-playbook';

/** A change of the incident's playbook to a stronger one. */
export interface PlaybookSwitch {
  from: { name: string; version: number };
  to: { name: string; version: number };
  severity: Severity;
  reason: string;
  at: string;
}

/** State of the rating; absent when the workflow input gave the playbook, which then rates every alert. */
export interface PlaybookRatingState {
  /** Compact firing alerts waiting for a rating, oldest first. */
  queue: Alert[];
  /** Hashes of the rating keys already queued, so each distinct kind of alert is rated once. */
  ratedKeys: string[];
  /** `selectPlaybook` calls started for rating. */
  calls: number;
  /** Alerts not rated because `maxRatingCalls` was reached or the queue was full. */
  skipped: number;
  /** Every playbook the incident has used, the pinned one first. */
  used: { name: string; version: number }[];
  switches: PlaybookSwitch[];
  /** Set when the run replays a history recorded before rating existed; nothing is rated then. */
  disabled?: boolean;
}

export function newRatingState(): PlaybookRatingState {
  return { queue: [], ratedKeys: [], calls: 0, skipped: 0, used: [], switches: [] };
}

/** Source, rule, priority and sender hint: the alert fields that decide which playbook claims it and how it rates. */
function ratingKey(alert: Alert): string {
  return shortHash([alert.source, alert.rule, alert.priority, alert.severityHint ?? ''].join('\u0000'));
}

/** True while a new playbook may still shape the response: before restore, stand-down and close. */
function switchable(state: IncidentState): boolean {
  return state.restoreStartedAt === undefined && state.standDown === undefined && state.phase !== 'closed';
}

/**
 * Queues a firing alert for rating when the current playbook does not claim it and its kind was not rated
 * yet. Called from the signal handler, so it only changes state.
 */
export function queueForRating(state: IncidentState, alert: Alert): void {
  const rating = state.playbookRating;
  const playbook = state.playbook;
  if (rating === undefined || rating.disabled || playbook === undefined || alert.status !== 'firing') return;
  if (!switchable(state) || playbookClaims(playbook.match, alert, { podLabels: state.target?.labels })) return;
  const key = ratingKey(alert);
  if (rating.ratedKeys.includes(key)) return;
  if (rating.calls + rating.queue.length >= maxRatingCalls || rating.queue.length >= maxQueuedAlerts) {
    rating.skipped += 1;
    return;
  }
  if (rating.used.length === 0) rating.used.push({ name: playbook.metadata.name, version: playbook.metadata.version });
  rating.ratedKeys.push(key);
  rating.queue.push(compactAlert(alert));
}

interface Rated {
  alert: Alert;
  playbook: Playbook;
  severity: Severity;
  reason: string;
  selection: string;
}

async function rateOne(state: IncidentState, alert: Alert): Promise<Rated | undefined> {
  let selected: SelectPlaybookResult;
  try {
    selected = await playbooks.selectPlaybook({ alert });
  } catch (error) {
    record(state, 'error', `rating alert ${alert.rule} by its playbook failed`, { error: errorMessage(error) });
    return undefined;
  }
  if (selected.usedDefault) return undefined;
  // The target's labels are known here and not in the activity, so the workflow classifies again with them.
  const { severity, reason } = classifySeverity(alert, selected.playbook, { podLabels: state.target?.labels });
  return { alert, playbook: selected.playbook, severity, reason, selection: selected.selectionReason };
}

/** Returns the worst rating of a batch that a playbook not used before gives; the first one wins a tie. */
function worstNewRating(state: IncidentState, ratings: (Rated | undefined)[]): Rated | undefined {
  const used = state.playbookRating?.used ?? [];
  let worst: Rated | undefined;
  for (const rated of ratings) {
    if (rated === undefined || used.some((playbook) => playbook.name === rated.playbook.metadata.name)) continue;
    if (worst === undefined || rated.severity < worst.severity) worst = rated;
  }
  return worst;
}

function adopt(state: IncidentState, rating: PlaybookRatingState, rated: Rated): void {
  const from = { name: state.playbook?.metadata.name ?? 'none', version: state.playbook?.metadata.version ?? 0 };
  const to = { name: rated.playbook.metadata.name, version: rated.playbook.metadata.version };
  const reason = cutToBytes(`${rated.alert.rule}: ${rated.reason}`, 1024);
  record(state, 'step', `playbook changed from ${from.name} v${from.version} to ${to.name} v${to.version}`, {
    reason: `${to.name} rates ${rated.alert.rule} ${rated.severity}, worse than ${state.severity ?? 'none'}`,
    selection: cutToBytes(rated.selection, 1024),
    alertId: cutToBytes(rated.alert.id, 256),
  });
  rating.switches.push({ from, to, severity: rated.severity, reason, at: nowIso() });
  rating.used.push(to);
  remapFailedSteps(state, rated.playbook);
  // NOTE: evidence kinds that only the adopted playbook lists are not collected when the evidence stage has
  // already run, and its isolation steps wait for the eradicate stage or the quiet period to run.
  state.playbook = rated.playbook;
  state.dryRun = state.dryRun || rated.playbook.dryRun;
  raiseSeverity(state, rated.severity, reason, rated.alert.id);
}

/**
 * Points failed containment steps at the same action in the new playbook, so a retry runs the right step.
 * A failure of an action that the new playbook lacks stays on the timeline and leaves the retry list.
 */
function remapFailedSteps(state: IncidentState, playbook: Playbook): void {
  state.failedSteps = state.failedSteps.flatMap((failed) => {
    const index = playbook.containment.findIndex((step) => step.action === failed.step);
    return index < 0 ? [] : [{ ...failed, index }];
  });
}

/** Applies the worst rating of a batch: a worse playbook is adopted, or raises the severity once the bound is met. */
function applyRatings(state: IncidentState, rating: PlaybookRatingState, ratings: (Rated | undefined)[]): void {
  const worst = worstNewRating(state, ratings);
  if (worst === undefined || state.severity === undefined) return;
  if (!severityAtLeast(worst.severity, state.severity) || worst.severity === state.severity) return;
  if (!switchable(state)) return;
  if (rating.switches.length >= maxPlaybookSwitches) {
    const name = worst.playbook.metadata.name;
    record(state, 'note', `playbook ${name} not adopted: the incident changed playbook ${maxPlaybookSwitches} times`);
    raiseSeverity(state, worst.severity, cutToBytes(`${worst.alert.rule}: ${worst.reason}`, 1024), worst.alert.id);
    return;
  }
  adopt(state, rating, worst);
}

/**
 * Rates queued alerts in batches for as long as the workflow runs. An alert leaves the queue only after its
 * batch is rated, so a run that continues as new rates it again.
 */
export async function rateQueuedAlerts(state: IncidentState): Promise<void> {
  const rating = state.playbookRating;
  if (rating === undefined) return;
  for (;;) {
    await condition(() => rating.queue.length > 0 && !rating.disabled);
    if (!patched(ratingPatch)) {
      rating.disabled = true;
      rating.queue = [];
      return;
    }
    const batch = rating.queue.slice(0, maxAlertsPerBatch);
    const ratings = await Promise.all(batch.map((alert) => rateOne(state, alert)));
    rating.queue.splice(0, batch.length);
    rating.calls += batch.length;
    applyRatings(state, rating, ratings);
    publishIncident(state);
  }
}
