import type {
  NodeActionInput,
  PodActionInput,
  ReattachPodInput,
  RolloutInput,
  ScaleWorkloadInput,
} from '../domain/response';
import { kubernetes } from './activities';
import type { IncidentState } from './state';
import { errorMessage, nowIso, record } from './timeline';

/**
 * The step that undoes one containment step, registered when that step succeeds. Inputs are complete
 * activity inputs, so the inverse repeats exactly what was recorded (for example the replica count read
 * before scaling to zero).
 */
export type InverseAction =
  | { activity: 'releasePodQuarantine'; input: PodActionInput }
  | { activity: 'reattachPod'; input: ReattachPodInput }
  | { activity: 'uncordonNode'; input: NodeActionInput }
  | { activity: 'scaleWorkload'; input: ScaleWorkloadInput }
  | { activity: 'resumeRollout'; input: RolloutInput };

/** An inverse together with the index of the containment step it undoes. */
export type InverseStep = InverseAction & { containmentIndex: number };

/** Adds an inverse to the compensation list. */
export function registerInverse(state: IncidentState, inverse: InverseStep): void {
  state.inverses.push(inverse);
  const step = state.containment[inverse.containmentIndex];
  if (step) {
    step.inverse = { activity: inverse.activity, status: 'pending' };
  }
}

async function runInverse(inverse: InverseStep): Promise<void> {
  switch (inverse.activity) {
    case 'releasePodQuarantine':
      await kubernetes.releasePodQuarantine(inverse.input);
      return;
    case 'reattachPod':
      await kubernetes.reattachPod(inverse.input);
      return;
    case 'uncordonNode':
      await kubernetes.uncordonNode(inverse.input);
      return;
    case 'scaleWorkload':
      await kubernetes.scaleWorkload(inverse.input);
      return;
    case 'resumeRollout':
      await kubernetes.resumeRollout(inverse.input);
      return;
  }
}

/**
 * Runs every registered inverse, last registered first. A failed inverse is recorded on its containment
 * step and on the timeline, and the rest still run. The returned list names the failures, so the caller
 * reports the restore as incomplete.
 */
export async function runCompensation(state: IncidentState): Promise<string[]> {
  const failures: string[] = [];
  while (state.inverses.length > 0) {
    const inverse = state.inverses[state.inverses.length - 1];
    if (inverse === undefined) {
      break;
    }
    const step = state.containment[inverse.containmentIndex];
    try {
      await runInverse(inverse);
      if (step) {
        step.inverse = { activity: inverse.activity, status: 'done', at: nowIso() };
      }
      record(state, 'step', `${inverse.activity} undid ${step?.step ?? 'a containment step'}`, {
        dryRun: state.dryRun,
      });
    } catch (error) {
      const message = errorMessage(error);
      if (step) {
        step.inverse = { activity: inverse.activity, status: 'failed', at: nowIso(), error: message };
      }
      failures.push(`${inverse.activity}: ${message}`);
      record(state, 'error', `${inverse.activity} failed, so ${step?.step ?? 'a containment step'} is still in place`, {
        error: message,
      });
    }
    state.inverses.pop();
  }
  return failures;
}

/** Marks every pending inverse as kept: containment stays in place by decision. */
export function keepContainment(state: IncidentState): void {
  for (const inverse of state.inverses) {
    const step = state.containment[inverse.containmentIndex];
    if (step) {
      step.inverse = { activity: inverse.activity, status: 'kept' };
    }
  }
  state.inverses = [];
}
