import type { IncidentWorkflowInput } from '../domain/response';
import type { GateOptions } from './gates';
import type { IncidentState } from './state';

/** State, input and continue-as-new hooks that every stage of the incident workflow uses. */
export interface StageContext {
  state: IncidentState;
  input: IncidentWorkflowInput;
  gateOptions: GateOptions;
  /** Continues as new when history has grown too long; a no-op otherwise. */
  checkpoint: () => Promise<void>;
  shouldContinue: () => boolean;
}
