import type { Phase } from '../domain/incident';
import { publishIncident } from './search-attributes';
import type { IncidentState } from './state';
import { nowIso, record } from './timeline';

/** Moves the incident to a phase, records it, and updates the search attributes. */
export function enterPhase(state: IncidentState, phase: Phase): void {
  if (state.phase === phase) {
    return;
  }
  state.phase = phase;
  state.phaseTimes[phase] = nowIso();
  if (phase === 'closed') {
    state.closedAt = state.phaseTimes[phase];
  }
  record(state, 'step', `phase ${phase} entered`);
  publishIncident(state);
}
