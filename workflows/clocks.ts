import { condition } from '@temporalio/workflow';
import type { Phase } from '../domain/incident';
import { clockNames, clockTargetMs } from '../domain/clocks';
import type { ClockName, ClockRecord } from '../domain/response';
import { page } from './notify';
import type { IncidentState } from './state';
import { addMs, hasPassed, msUntil, nowIso, record } from './timeline';

const phaseOrder: readonly Phase[] = ['detect', 'isolate', 'eradicate', 'recover', 'closed'];

/**
 * Returns how a clock ended, or undefined while it runs. It is `met` when its work is done: the first
 * response decision, or the end of its phase. It is `stopped` when the incident was stood down and closed
 * before the phase ended, so the target was neither met nor missed.
 */
function clockEnd(state: IncidentState, name: ClockName): 'met' | 'stopped' | undefined {
  if (name === 'response') {
    return state.gates.some((result) => result.gate === 'isolate') || state.standDown !== undefined ? 'met' : undefined;
  }
  const index = phaseOrder.indexOf(name);
  if (phaseOrder.indexOf(state.phase) <= index) return undefined;
  const next = phaseOrder[index + 1];
  const skipped = next !== undefined && next !== 'closed' && state.phaseTimes[next] === undefined;
  return state.standDown !== undefined && state.phase === 'closed' && skipped ? 'stopped' : 'met';
}

/** Returns true while the response waits for a person, which misses an immediate (zero) target. */
function waitsForPerson(state: IncidentState): boolean {
  return state.openGate?.gate === 'isolate';
}

function refreshDue(state: IncidentState, clock: ClockRecord): void {
  if (clock.name === 'response' && state.severity !== undefined) {
    clock.targetMs = clockTargetMs('response', state.severity);
    clock.dueAt = addMs(clock.startedAt, clock.targetMs);
  }
}

function missClock(state: IncidentState, clock: ClockRecord): void {
  clock.missedAt = nowIso();
  const summary = `${clock.name} target of ${clock.targetMs / 60_000} min missed for ${state.incidentId}`;
  record(state, 'clock', summary, { dueAt: clock.dueAt });
  page(state, `clock-${clock.name}`, summary);
}

function hasEnded(clock: ClockRecord): boolean {
  return clock.metAt !== undefined || clock.missedAt !== undefined || clock.stoppedAt !== undefined;
}

function endClock(state: IncidentState, clock: ClockRecord, end: 'met' | 'stopped'): void {
  if (hasEnded(clock)) return;
  if (end === 'met') {
    clock.metAt = nowIso();
    record(state, 'clock', `${clock.name} target met`, { dueAt: clock.dueAt });
    return;
  }
  clock.stoppedAt = nowIso();
  record(
    state,
    'clock',
    `${clock.name} clock stopped: the incident was stood down before the ${clock.name} phase ended`,
    {
      dueAt: clock.dueAt,
    },
  );
}

async function watchClock(state: IncidentState, clock: ClockRecord): Promise<void> {
  let fired: string | undefined;
  for (;;) {
    if (hasEnded(clock)) return;
    const end = clockEnd(state, clock.name);
    if (end !== undefined) {
      endClock(state, clock, end);
      return;
    }
    refreshDue(state, clock);
    const immediate = clock.targetMs === 0;
    if ((immediate && waitsForPerson(state)) || (!immediate && hasPassed(clock.dueAt, fired))) {
      missClock(state, clock);
      return;
    }
    const severity = state.severity;
    const wake = () =>
      clockEnd(state, clock.name) !== undefined || state.severity !== severity || (immediate && waitsForPerson(state));
    if (immediate) {
      await condition(wake);
    } else {
      const dueAt = clock.dueAt;
      fired = (await condition(wake, Math.max(1, msUntil(dueAt)))) ? undefined : dueAt;
    }
  }
}

/** Creates the clock records when the incident is classified; measured from the first alert. */
export function createClocks(state: IncidentState): void {
  if (state.clocks.length > 0 || state.severity === undefined) {
    return;
  }
  for (const name of clockNames) {
    const targetMs = clockTargetMs(name, state.severity);
    state.clocks.push({ name, targetMs, startedAt: state.openedAt, dueAt: addMs(state.openedAt, targetMs) });
  }
}

/** Starts a durable timer per clock still running; called at start and after each continue-as-new. */
export function watchClocks(state: IncidentState): void {
  for (const clock of state.clocks) {
    if (!hasEnded(clock)) {
      void watchClock(state, clock);
    }
  }
}

/**
 * Ends at once every running clock whose work is done or stopped. The incident calls it when it closes, so
 * the report shows each clock's end without waiting for the clock's watcher to wake.
 */
export function settleClocks(state: IncidentState): void {
  for (const clock of state.clocks) {
    const end = clockEnd(state, clock.name);
    if (end !== undefined) endClock(state, clock, end);
  }
}
