import type { Severity } from './alert';
import type { GateDecision, GateName } from './incident';
import type { GateStatus } from './response-record';

/** Channel and timestamp of a posted gate message, which later edits, reminders and escalations thread on. */
export interface SlackMessageRef {
  channel: string;
  ts: string;
}

export interface PostGateMessageInput {
  incidentId: string;
  /** Link to the incident in the Temporal Web UI. */
  runUrl: string;
  gate: GateName;
  severity: Severity;
  targetSummary: string;
  triggerSummary: string;
  choices: { decision: GateDecision; effect: string }[];
  deadlineAt: string;
  onTimeout: GateDecision;
  channel: string;
}

export interface UpdateGateMessageInput extends SlackMessageRef {
  incidentId: string;
  gate: GateName;
  status: GateStatus;
  decision?: GateDecision;
  decider?: string;
  at: string;
  reason?: string;
}

export interface PostGateReminderInput extends SlackMessageRef {
  incidentId: string;
  gate: GateName;
  deadlineAt: string;
  /** Slack mention text such as `<!subteam^S123>` or `<@U123>`. */
  mention?: string;
}

export interface PostGateEscalationInput extends SlackMessageRef {
  incidentId: string;
  gate: GateName;
  mention?: string;
}

export interface ResolvedApprovers {
  /** The approver list with each user group id replaced by the group's members, without duplicates. */
  approvers: string[];
  groups: { group: string; members: string[] }[];
}

/** Slack activities, implemented in `activities/notify/slack.ts`. */
export interface SlackActivities {
  /** Expands Slack user group ids (`S…`) into their members. */
  resolveApproverGroups(input: { approvers: string[] }): Promise<ResolvedApprovers>;
  postGateMessage(input: PostGateMessageInput): Promise<SlackMessageRef>;
  updateGateMessage(input: UpdateGateMessageInput): Promise<unknown>;
  postGateReminder(input: PostGateReminderInput): Promise<unknown>;
  postGateEscalation(input: PostGateEscalationInput): Promise<unknown>;
}

/** A paging webhook; the routing key is read from the named environment variable, never stored in history. */
export interface EscalationTarget {
  url: string;
  routingKeyEnv: string;
}

export interface EscalateIncidentInput {
  incidentId: string;
  target: EscalationTarget;
  summary: string;
  severity: Severity;
  source: string;
  /** Same key, same page: PagerDuty groups triggers that share it. */
  dedupKey: string;
  /** Short facts for the responders, such as the error of a failed containment step. */
  details?: Record<string, string>;
}

export interface EscalateIncidentResult {
  status: string;
  dedupKey: string;
}

/** Escalation activity, implemented in `activities/notify/escalate.ts`. */
export interface EscalationActivities {
  escalateIncident(input: EscalateIncidentInput): Promise<EscalateIncidentResult>;
}
