import type { GateName } from '../domain/incident';
import type { IncidentRecord } from '../domain/response';
import type { GateState, GateStatusView, IncidentStatus } from './messages';
import { summaryLine } from './search-attributes';
import type { IncidentState } from './state';
import { timelineEntries, timelineLength } from './timeline';

const gateNames: readonly GateName[] = ['isolate', 'escalate', 'restore'];
const statusTimelineEntries = 20;
/** Approver group members listed in the `status` result; a Slack group can have thousands. */
const maxListedGroupMembers = 200;

function gateState(open: unknown, result: unknown): GateState {
  if (open) return 'open';
  return result ? 'closed' : 'pending';
}

function gateView(state: IncidentState, gate: GateName): GateStatusView {
  const open = state.openGate?.gate === gate ? state.openGate : undefined;
  const result = open === undefined ? state.gates.findLast((candidate) => candidate.gate === gate) : undefined;
  const policy =
    open?.policy ?? (state.playbook && state.severity ? state.playbook.gates[gate][state.severity] : undefined);
  return {
    gate,
    state: gateState(open, result),
    mode: policy?.mode,
    approvers: policy?.approvers ?? [],
    approverGroups: policy?.approverGroups ?? [],
    groupMembers: open?.groupMembers?.slice(0, maxListedGroupMembers),
    approvals: open?.approvals.map((approval) => approval.decider) ?? [],
    approvalChannels: open?.approvals.map((approval) => approval.channel) ?? [],
    requiredApprovals: policy?.twoPerson ? 2 : 1,
    askReason: open?.askReason,
    deadlineAt: open?.deadlineAt,
    onTimeout: policy?.onTimeout,
    result: result && {
      status: result.status,
      decision: result.decision,
      decider: result.decider,
      channel: result.channel,
      at: result.at,
      reason: result.reason,
    },
  };
}

function standDownView(state: IncidentState): Pick<IncidentStatus, 'standDown' | 'liftRequest'> {
  const standDown = state.standDown;
  const liftRequest = state.liftRequest;
  return {
    standDown: standDown && {
      by: standDown.by,
      channel: standDown.channel,
      at: standDown.at,
      reason: standDown.reason,
      liftContainment: standDown.liftContainment,
    },
    liftRequest: liftRequest && {
      approvals: liftRequest.approvals.map((approval) => approval.decider),
      requiredApprovals: 2,
    },
  };
}

/**
 * Builds the result of the `status` query. Every part is bounded: the latest 20 timeline entries (each
 * with its summary and data cut), at most 20 rules and 200 group members, so the result stays far below
 * Temporal's query size limit however large the incident grew.
 */
export function incidentStatus(state: IncidentState): IncidentStatus {
  return {
    incidentId: state.incidentId,
    phase: state.phase,
    severity: state.severity,
    playbook: state.playbook && {
      name: state.playbook.metadata.name,
      version: String(state.playbook.metadata.version),
    },
    dryRun: state.dryRun,
    gates: gateNames.map((gate) => gateView(state, gate)),
    waitingGate: state.openGate?.gate ?? 'none',
    target: state.target,
    targetUnresolvedReason: state.targetUnresolvedReason,
    alertCount: state.alerts.count,
    resolvedCount: state.alerts.resolvedCount,
    redeliveries: state.alerts.redeliveries,
    rules: state.alerts.rules,
    triggerersIncomplete: state.alerts.triggerersIncomplete,
    invalidAlertSignals: state.alerts.invalidSignals ?? 0,
    rejectedAttempts: state.rejectedAttempts,
    ...standDownView(state),
    openedAt: state.openedAt,
    closedAt: state.closedAt,
    outcome: state.outcome,
    failedSteps: state.failedSteps.map(({ step, error }) => ({ step, error })),
    summary: summaryLine(state),
    previousRunId: state.previousRunId,
    timeline: timelineEntries(state).slice(-statusTimelineEntries),
    timelineLength: timelineLength(state),
  };
}

/** Builds the record that the incident report is made from. */
export function incidentRecord(state: IncidentState): IncidentRecord {
  return {
    incidentId: state.incidentId,
    fingerprint: state.fingerprint,
    playbook: {
      name: state.playbook?.metadata.name ?? 'none',
      version: state.playbook ? String(state.playbook.metadata.version) : 'none',
    },
    dryRun: state.dryRun,
    severity: state.severity ?? 'P3',
    severityHistory: state.severityHistory,
    phase: state.phase,
    phaseTimes: state.phaseTimes,
    openedAt: state.openedAt,
    closedAt: state.closedAt,
    outcome: state.outcome ?? 'open',
    clocks: state.clocks,
    target: state.target,
    targetUnresolvedReason: state.targetUnresolvedReason,
    timeline: timelineEntries(state),
    timelineDropped: state.timelineDropped,
    gates: state.gates,
    containment: state.containment,
    evidence: state.evidence,
    alertCount: state.alerts.count,
    resolvedCount: state.alerts.resolvedCount,
    redeliveries: state.alerts.redeliveries,
    rules: state.alerts.rules,
    mitre: state.alerts.mitre,
    standDown: state.standDown && {
      reason: state.standDown.reason,
      by: state.standDown.by,
      at: state.standDown.at,
      liftContainment: state.standDown.liftContainment,
      channel: state.standDown.channel,
      approvals: state.standDown.approvals,
    },
  };
}
