/** Entry point of the workflow bundle: every workflow type that Firebreak workers register. */
export { incidentWorkflow } from './incident';
