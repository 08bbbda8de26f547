import type { IncidentWorkflowInput } from '../domain/response';
import type { IncidentState } from './state';
import { nowIso } from './timeline';

/**
 * Start arguments of the incident that follows a closed one with the same fingerprint, for the firing alerts
 * that arrived after the close decision. The new incident links to the closed run through `previousRunId`,
 * starts with a fresh state and selects its playbook again (unless the input pinned one), as one started by
 * the intake would.
 */
export function nextIncidentInput(
  state: IncidentState,
  input: IncidentWorkflowInput,
  runId: string,
): IncidentWorkflowInput {
  const late = state.lateAlerts ?? { alerts: [], count: 0, redeliveries: 0, bytes: 0 };
  const first = late.alerts[0];
  return {
    fingerprint: state.fingerprint,
    ...(first === undefined ? {} : { firstAlert: summaryOf(first) }),
    previousRunId: runId,
    ...(input.dryRun === undefined ? {} : { dryRun: input.dryRun }),
    ...(input.playbook === undefined ? {} : { playbook: input.playbook }),
    ...(input.limits === undefined ? {} : { limits: input.limits }),
    ...(input.uiBaseUrl === undefined ? {} : { uiBaseUrl: input.uiBaseUrl }),
    ...(input.evidenceTaskQueue === undefined ? {} : { evidenceTaskQueue: input.evidenceTaskQueue }),
    lateAlerts: {
      alerts: late.alerts,
      count: Math.max(late.count, late.alerts.length, 1),
      redeliveries: 0,
      receivedAt: nowIso(),
    },
  };
}

function summaryOf(alert: NonNullable<IncidentState['lateAlerts']>['alerts'][number]) {
  const { id, source, rule, priority, severityHint, eventTime, status, target, hostScoped } = alert;
  return { id, source, rule, priority, severityHint, eventTime, status, target, hostScoped };
}
