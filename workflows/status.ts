import type { GateName } from '../domain/incident';
import type { IncidentRecord } from '../domain/response';
import type { GateState, GateStatusView, IncidentStatus } from './messages';
import { summaryLine } from './search-attributes';
import type { IncidentState } from './state';

const gateNames: readonly GateName[] = ['isolate', 'escalate', 'restore'];
const statusTimelineEntries = 20;

function gateState(open: unknown, result: unknown): GateState {
  if (open) return 'open';
  return result ? 'closed' : 'pending';
}

function gateView(state: IncidentState, gate: GateName): GateStatusView {
  const open = state.openGate?.gate === gate ? state.openGate : undefined;
  const result = state.gates.find((candidate) => candidate.gate === gate);
  const policy =
    open?.policy ?? (state.playbook && state.severity ? state.playbook.gates[gate][state.severity] : undefined);
  return {
    gate,
    state: gateState(open, result),
    mode: policy?.mode,
    approvers: policy?.approvers ?? [],
    approverGroups: policy?.approverGroups ?? [],
    groupMembers: open?.groupMembers,
    approvals: open?.approvals ?? [],
    requiredApprovals: policy?.twoPerson ? 2 : 1,
    deadlineAt: open?.deadlineAt,
    onTimeout: policy?.onTimeout,
    result: result && {
      status: result.status,
      decision: result.decision,
      decider: result.decider,
      at: result.at,
      reason: result.reason,
    },
  };
}

/** Builds the result of the `status` query. */
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
    redeliveries: state.alerts.redeliveries,
    rules: state.alerts.rules,
    openedAt: state.openedAt,
    closedAt: state.closedAt,
    outcome: state.outcome,
    summary: summaryLine(state),
    timeline: state.timeline.slice(-statusTimelineEntries),
    timelineLength: state.timeline.length + state.timelineDropped,
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
    timeline: state.timeline,
    timelineDropped: state.timelineDropped,
    gates: state.gates,
    containment: state.containment,
    evidence: state.evidence,
    alertCount: state.alerts.count,
    redeliveries: state.alerts.redeliveries,
    rules: state.alerts.rules,
    mitre: state.alerts.mitre,
    standDown: state.standDown && {
      reason: state.standDown.reason,
      by: state.standDown.by,
      at: state.standDown.at,
      liftContainment: state.standDown.liftContainment,
    },
  };
}
