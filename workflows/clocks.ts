import { condition } from '@temporalio/workflow';
import type { Phase } from '../domain/incident';
import { clockNames, clockTargetMs } from '../domain/clocks';
import type { ClockName, ClockRecord } from '../domain/response';
import { page } from './notify';
import type { IncidentState } from './state';
import { addMs, msUntil, nowIso, record } from './timeline';

const phaseOrder: readonly Phase[] = ['detect', 'isolate', 'eradicate', 'recover', 'closed'];

/** True when the work a clock measures is done: the first response decision, or the end of its phase. */
function isMet(state: IncidentState, name: ClockName): boolean {
  if (name === 'response') {
    return state.gates.some((result) => result.gate === 'isolate') || state.standDown !== undefined;
  }
  return phaseOrder.indexOf(state.phase) > phaseOrder.indexOf(name);
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

async function watchClock(state: IncidentState, clock: ClockRecord): Promise<void> {
  for (;;) {
    if (isMet(state, clock.name)) {
      clock.metAt = nowIso();
      record(state, 'clock', `${clock.name} target met`, { dueAt: clock.dueAt });
      return;
    }
    refreshDue(state, clock);
    const immediate = clock.targetMs === 0;
    if ((immediate && waitsForPerson(state)) || (!immediate && msUntil(clock.dueAt) === 0)) {
      missClock(state, clock);
      return;
    }
    const severity = state.severity;
    const wake = () => isMet(state, clock.name) || state.severity !== severity || (immediate && waitsForPerson(state));
    if (immediate) {
      await condition(wake);
    } else {
      await condition(wake, Math.max(1, msUntil(clock.dueAt)));
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
    if (clock.metAt === undefined && clock.missedAt === undefined) {
      void watchClock(state, clock);
    }
  }
}
