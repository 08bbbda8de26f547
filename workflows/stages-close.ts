import { reportActivities } from './activities';
import { flushAlertBodies } from './alert-bodies';
import { keepContainment, runCompensation } from './compensation';
import { settleClocks } from './clocks';
import { anyContainmentDone } from './containment';
import { settleNotifications } from './notify';
import { enterPhase } from './phase';
import type { StageContext } from './stage-context';
import { incidentRecord } from './status';
import type { IncidentState, Stage } from './state';
import { errorMessage, record } from './timeline';

const notificationGraceMs = 30_000;

/**
 * Stand down: record who and why, and lift containment only on request. A stand-down that arrives while the
 * restore runs lets it finish, and the outcome states what the restore did.
 */
export async function standDown(context: StageContext): Promise<Stage> {
  const { state } = context;
  const request = state.standDown;
  if (request === undefined) {
    return 'report';
  }
  const who = `stood down by ${request.by}`;
  if (state.restoreStartedAt !== undefined) {
    keepContainment(state);
    state.outcome = `${who} after the restore had run: ${state.outcome ?? 'restore incomplete'}`;
  } else if (!anyContainmentDone(state)) {
    keepContainment(state);
    state.outcome = `${who}, no containment was in place`;
  } else if (request.liftContainment) {
    const failures = await runCompensation(state);
    state.outcome =
      failures.length === 0
        ? `${who}, containment lifted`
        : `${who}, lifting containment failed: ${failures.join('; ')}`;
  } else {
    keepContainment(state);
    state.outcome = `${who}, containment left in place`;
  }
  return 'report';
}

/** Returns the outcome for the report, with the containment steps that failed for good first. */
function finalOutcome(state: IncidentState): string {
  const outcome = state.outcome ?? 'closed';
  if (state.failedSteps.length === 0) return outcome;
  const steps = [...new Set(state.failedSteps.map((failed) => failed.step))].join(', ');
  return `containment failed (${steps}); ${outcome}`;
}

/** Closes the incident and writes its report. */
export async function closeIncident(context: StageContext): Promise<Stage> {
  const { state } = context;
  enterPhase(state, 'closed');
  settleClocks(state);
  state.outcome = finalOutcome(state);
  await flushAlertBodies(state, context.input.evidenceTaskQueue);
  await settleNotifications(notificationGraceMs, state);
  try {
    const report = reportActivities(context.input.evidenceTaskQueue);
    state.report = await report.writeIncidentReport({ incidentId: state.incidentId, record: incidentRecord(state) });
    record(state, 'step', 'incident report written', { ...state.report });
  } catch (error) {
    record(state, 'error', 'writing the incident report failed', { error: errorMessage(error) });
  }
  return 'done';
}
