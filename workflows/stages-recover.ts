import { condition, patched } from '@temporalio/workflow';
import { parseDurationMs } from '../domain/duration';
import { keepContainment, runCompensation } from './compensation';
import { runAdoptedSteps, runContainment } from './containment';
import { runGate } from './gates';
import { page } from './notify';
import { enterPhase } from './phase';
import { rollOutTrustedImages } from './rollout';
import type { StageContext } from './stage-context';
import { afterContainment } from './stages-retry';
import type { IncidentState, Stage } from './state';
import { addMs, hasPassed, msUntil, nowIso, record } from './timeline';

/** Eradicate and clean: remove the threat when isolation was approved. */
export async function eradicate(context: StageContext): Promise<Stage> {
  const { state } = context;
  enterPhase(state, 'eradicate');
  if (state.decisions.isolate !== 'approve' || state.target === undefined) {
    record(state, 'note', 'nothing was contained, so nothing is eradicated or restored');
    state.outcome ??= 'closed without containment';
    return 'report';
  }
  // Isolation steps of a playbook adopted after isolation ran come first, so the pod is cut off before it goes.
  await runAdoptedSteps(state, 'isolate');
  await runContainment(state, 'eradicate');
  if (state.failedSteps.some((failed) => failed.phase === 'eradicate')) {
    state.retryPhase = 'eradicate';
    return 'containmentRetry';
  }
  return afterContainment(state);
}

function switchCount(state: IncidentState): number {
  return state.playbookRating?.switches.length ?? 0;
}

/** Runs the steps that a playbook adopted during the quiet period adds, first isolation, then eradication. */
async function runStepsOfAdoptedPlaybook(state: IncidentState): Promise<void> {
  await runAdoptedSteps(state, 'isolate');
  await runAdoptedSteps(state, 'eradicate');
}

/**
 * Waits until no new firing alert has arrived for the playbook's quiet period; each one restarts it. A
 * playbook adopted meanwhile runs its missing containment steps and sets the length of the period.
 */
export async function quietPeriod(context: StageContext): Promise<Stage> {
  const { state } = context;
  const quietPeriodOf = () => state.playbook?.restore.quietPeriod ?? '0s';
  if (state.quietSince === undefined) {
    state.quietSince = nowIso();
    state.alerts.sinceQuiet = 0;
    record(state, 'note', `quiet period of ${quietPeriodOf()} started`);
  }
  // Starts unequal, so a run that continued as new also runs what an earlier adoption left to do.
  let switches = -1;
  let fired: string | undefined;
  for (;;) {
    if (state.standDown) return 'standDown';
    if (switchCount(state) !== switches) {
      switches = switchCount(state);
      await runStepsOfAdoptedPlaybook(state);
    }
    const quietUntil = addMs(state.quietSince, parseDurationMs(quietPeriodOf()));
    if (hasPassed(quietUntil, fired)) return 'restoreGate';
    await context.checkpoint();

    const seen = state.alerts.sinceQuiet;
    const alerted = await condition(
      () =>
        state.alerts.sinceQuiet !== seen ||
        state.standDown !== undefined ||
        switchCount(state) !== switches ||
        context.shouldContinue(),
      Math.max(1, msUntil(quietUntil)),
    );
    fired = alerted ? undefined : quietUntil;
    if (alerted && state.alerts.sinceQuiet !== seen) {
      state.quietSince = state.alerts.lastAt ?? nowIso();
      record(state, 'note', 'new firing alerts arrived, so the quiet period starts again', undefined, {
        evictable: true,
      });
    }
  }
}

export async function restoreGate(context: StageContext): Promise<Stage> {
  const { state } = context;
  enterPhase(state, 'recover');
  const result = await runGate(state, 'restore', context.gateOptions);
  if (result.decision === 'approve') {
    return 'restore';
  }
  keepContainment(state);
  state.outcome ??= `containment kept in place (restore gate ${result.status})`;
  return 'report';
}

/** Marks histories whose restore rolls the trusted image out before it lifts containment. */
const rolloutFirstPatch = 'roll-out-before-lifting-containment';

/**
 * Recover: roll the workload out on the trusted image, then undo containment in reverse order. A failed
 * rollout keeps containment in place, records that in the outcome and pages the escalation target, because
 * lifting it would release the workload on the image it was contained on.
 */
export async function restore(context: StageContext): Promise<Stage> {
  const { state } = context;
  state.restoreStartedAt ??= nowIso();
  if (patched(rolloutFirstPatch)) {
    await rollOutThenLiftContainment(state);
  } else {
    const failures = await runCompensation(state);
    failures.push(...(await rollOutTrustedImages(state)));
    state.outcome = failures.length === 0 ? 'restored' : `restore incomplete: ${failures.join('; ')}`;
  }
  const watchMs = parseDurationMs(state.playbook?.restore.watchPeriod ?? '0s');
  state.watchUntil = addMs(nowIso(), watchMs);
  return 'watch';
}

async function rollOutThenLiftContainment(state: IncidentState): Promise<void> {
  const rolloutFailures = await rollOutTrustedImages(state);
  if (rolloutFailures.length > 0) {
    keepContainment(state);
    const summary = `restore incomplete: containment kept in place because the rollout failed: ${rolloutFailures.join('; ')}`;
    state.outcome = summary;
    record(state, 'error', summary);
    page(state, 'restore', summary);
    return;
  }
  const failures = await runCompensation(state);
  state.outcome = failures.length === 0 ? 'restored' : `restore incomplete: ${failures.join('; ')}`;
}

/** Heightened watch after restore: firing alerts in this window are recorded and page the escalation target. */
export async function watch(context: StageContext): Promise<Stage> {
  const { state } = context;
  const until = state.watchUntil ?? nowIso();
  state.watchBaseline ??= state.alerts.count;
  const before = state.watchBaseline;
  let fired: string | undefined;
  while (!hasPassed(until, fired) && !state.standDown) {
    await context.checkpoint();
    const woken = await condition(() => state.standDown !== undefined || context.shouldContinue(), msUntil(until));
    fired = woken ? undefined : until;
  }
  const during = state.alerts.count - before;
  if (during > 0) {
    const summary = `${during} firing alerts arrived during the heightened watch after restore`;
    record(state, 'note', summary);
    page(state, 'watch', summary);
  }
  return 'report';
}
