import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Severity } from '../domain/alert';
import type { AlertBatch, DecideGateInput, GateName, Phase } from '../domain/incident';
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

/** Stops the response. Containment stays in place unless `liftContainment` is set. */
export interface StandDownInput {
  reason: string;
  liftContainment: boolean;
  by: string;
}
export const standDownSignal = defineSignal<[StandDownInput]>('standDown');

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
  requiredApprovals: number;
  deadlineAt?: string;
  onTimeout?: string;
  result?: { status: GateStatus; decision?: string; decider?: string; at: string; reason?: string };
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
  alertCount: number;
  redeliveries: number;
  rules: string[];
  openedAt: string;
  closedAt?: string;
  outcome?: string;
  summary: string;
  /** The latest timeline entries, newest last. */
  timeline: TimelineEntry[];
  timelineLength: number;
}
export const statusQuery = defineQuery<IncidentStatus>('status');
