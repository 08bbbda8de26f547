import { anyContainmentDone, describeFailures, runContainment } from './containment';
import { runGate } from './gates';
import { page } from './notify';
import type { StageContext } from './stage-context';
import type { IncidentState, Stage } from './state';
import { cutToBytes } from './bounds';
import { record } from './timeline';

/**
 * Returns the stage after eradication: the quiet period and the restore gate when some containment is in
 * place, else the report, so the restore gate never offers to lift steps that never happened.
 */
export function afterContainment(state: IncidentState): Stage {
  if (anyContainmentDone(state)) return 'quiet';
  record(
    state,
    'note',
    'no containment step succeeded, so there is nothing to lift and the restore gate is not offered',
  );
  state.outcome ??= 'no containment in place';
  return 'report';
}

function nextStage(state: IncidentState): Stage {
  return state.retryPhase === 'eradicate' ? afterContainment(state) : 'evidence';
}

function pageFailure(state: IncidentState, failures: string): void {
  state.containmentRetries += 1;
  const target = state.target ? `${state.target.namespace}/${state.target.pod}` : 'the target';
  const summary = `Firebreak ${state.severity ?? ''} incident ${state.incidentId}: containment failed on ${target}`;
  page(state, 'containment-failed', summary, { failedSteps: cutToBytes(failures, 2000) });
}

/**
 * Containment failed: page the escalation target with the errors, then ask a person through the isolate
 * gate whether to retry the failed steps, with the errors shown. Approve retries them, and a person is asked
 * again if they fail again. Reject, or the deadline (always reject), goes on with the containment that succeeded.
 * The failures stay recorded and make the outcome `containment failed`.
 */
export async function containmentRetry(context: StageContext): Promise<Stage> {
  const { state } = context;
  const phase = state.retryPhase ?? 'isolate';
  const failed = state.failedSteps.filter((step) => step.phase === phase);
  if (failed.length === 0) return nextStage(state);

  const failures = describeFailures(failed);
  const resumed = state.openGate?.gate === 'isolate' && state.openGate.purpose === 'retry-containment';
  if (!resumed) pageFailure(state, failures);
  const forceAsk = `containment failed: ${failures}`;
  const result = await runGate(state, 'isolate', { ...context.gateOptions, forceAsk, purpose: 'retry-containment' });
  if (result.decision !== 'approve') {
    record(state, 'note', `failed containment steps not retried (${result.status}): ${failures}`);
    return nextStage(state);
  }
  await runContainment(
    state,
    phase,
    failed.map((step) => step.index),
  );
  return 'containmentRetry';
}
