import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Severity } from '../domain/alert';
import type { AlertBatch, DecideGateInput, DecisionChannel, GateName, Phase, StandDownInput } from '../domain/incident';
import type { GateStatus, TargetRef, TimelineEntry } from '../domain/response';

/**
 * Messages of the incident workflow. The intake, the Slack app and the CLI address them by these names,
 * so the names are part of the public contract.
 */

/** New alerts for the incident, as batched by the intake. */
export const alertsSignal = defineSignal<[AlertBatch]>('alerts');

/** Failure type of a `decideGate` Update that the workflow rejected after recording the attempt. */
export const gateDecisionRejectedType = 'GateDecisionRejected';

/** Result of a `decideGate` Update whose decision was accepted. */
export interface DecideGateResult {
  gate: GateName;
  /** `open` while a two-person gate waits for its second approval. */
  status: GateStatus | 'open';
  decider: string;
  at: string;
}

/**
 * A decision on an open gate. The validator rejects structurally invalid input, which leaves no trace in
 * history. Every other rejection happens in the handler: gate not open or already decided, decider not
 * an approver, triggerer deciding, incident closed. The handler records the attempt on the timeline and
 * changes nothing else. It then fails the Update with an `ApplicationFailure` of type
 * `GateDecisionRejected` whose message states the reason.
 */
export const decideGateUpdate = defineUpdate<DecideGateResult, [DecideGateInput]>('decideGate');

/** Failure type of a `standDown` Update that the workflow rejected after recording the attempt. */
export const standDownRejectedType = 'StandDownRejected';

/** Result of an accepted `standDown` Update. */
export interface StandDownResult {
  /** `pending` while lifting containment waits for a second, different approver. */
  status: 'accepted' | 'pending';
  by: string;
  at: string;
  liftContainment: boolean;
  /** People whose request to lift containment counted so far. */
  approvals: string[];
  requiredApprovals: number;
}

/**
 * Stops the response and records who and why; containment stays in place unless `liftContainment` is set.
 * Standing down needs an approver of a gate at the current severity. Lifting containment needs a decider
 * whom the restore gate at the current severity allows, and two of them when that gate is two-person. The
 * validator rejects input that does not parse; the handler records every other rejection on the timeline
 * and fails the Update with type `StandDownRejected`.
 */
export const standDownUpdate = defineUpdate<StandDownResult, [StandDownInput]>('standDown');

/** `pending` before the gate is reached, `open` while it waits, `closed` once it has a result. */
export type GateState = 'pending' | 'open' | 'closed';

export interface GateStatusView {
  gate: GateName;
  state: GateState;
  mode?: string;
  approvers: string[];
  approverGroups: string[];
  /** Members of the approver groups, once Slack has listed them. */
  groupMembers?: string[];
  approvals: string[];
  /** Channel of each approval, in the order of `approvals`. */
  approvalChannels: DecisionChannel[];
  requiredApprovals: number;
  /** Why the open gate asks a person although the playbook would act or skip, such as a failed containment step. */
  askReason?: string;
  deadlineAt?: string;
  onTimeout?: string;
  result?: {
    status: GateStatus;
    decision?: string;
    decider?: string;
    channel?: DecisionChannel;
    at: string;
    reason?: string;
  };
}

/** Result of the `status` query. */
export interface IncidentStatus {
  incidentId: string;
  phase: Phase;
  severity: Severity | undefined;
  playbook?: { name: string; version: string };
  dryRun: boolean;
  gates: GateStatusView[];
  waitingGate: GateName | 'none';
  target?: TargetRef;
  targetUnresolvedReason?: string;
  /** Firing alerts. */
  alertCount: number;
  resolvedCount: number;
  redeliveries: number;
  rules: string[];
  /**
   * Why the list of users who triggered the incident is incomplete: `forbidTriggerer` gates then forbid only
   * the users recorded before it filled up.
   */
  triggerersIncomplete?: string;
  /** `alerts` signals dropped because their payload was not a valid alert batch. */
  invalidAlertSignals: number;
  /** Rejected decision and stand-down attempts. */
  rejectedAttempts: number;
  standDown?: { by: string; channel: DecisionChannel; at: string; reason: string; liftContainment: boolean };
  /** A request to lift containment that waits for a second approver. */
  liftRequest?: { approvals: string[]; requiredApprovals: number };
  openedAt: string;
  closedAt?: string;
  outcome?: string;
  /** Containment steps that failed and were not retried successfully. */
  failedSteps: { step: string; error: string }[];
  summary: string;
  /** Run id of the closed incident that this one follows. */
  previousRunId?: string;
  /** The latest timeline entries, newest last. */
  timeline: TimelineEntry[];
  /** Timeline entries ever recorded, including those dropped to bound the state. */
  timelineLength: number;
}
export const statusQuery = defineQuery<IncidentStatus>('status');
