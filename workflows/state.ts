import type { Alert, Severity } from '../domain/alert';
import type { GateDecision, GateName, Phase } from '../domain/incident';
import type { GatePolicy, Playbook } from '../domain/playbook';
import type {
  ClockRecord,
  ContainmentRecord,
  GateResult,
  IncidentLimits,
  IncidentRecord,
  SlackMessageRef,
  TargetRef,
  TimelineEntry,
} from '../domain/response';
import type { InverseStep } from './compensation';
import type { StandDownInput } from './messages';

/** Step of the workflow that a continued run resumes at; each stage boundary is a safe point. */
export type Stage =
  | 'triage'
  | 'isolateGate'
  | 'isolate'
  | 'evidence'
  | 'escalateGate'
  | 'eradicate'
  | 'quiet'
  | 'restoreGate'
  | 'restore'
  | 'watch'
  | 'standDown'
  | 'report'
  | 'done';

/** A gate while it is open; kept in state so a continued run resumes the same wait. */
export interface OpenGate {
  gate: GateName;
  /** Policy for the current severity; replaced when the severity rises while the gate is open. */
  policy: GatePolicy;
  severity: Severity;
  openedAt: string;
  deadlineAt: string;
  reminderAt: string;
  reminderSent: boolean;
  approvals: string[];
  /** Members of the policy's approver groups, once Slack has listed them. */
  groupMembers?: string[];
  slackPostStarted: boolean;
  /** Decision taken by a person, applied by the gate step at its next wake-up. */
  decided?: GateResult;
}

/** The whole state of an incident, carried across continue-as-new. */
export interface IncidentState {
  incidentId: string;
  fingerprint: string;
  stage: Stage;
  phase: Phase;
  phaseTimes: Partial<Record<Phase, string>>;
  openedAt: string;
  closedAt?: string;
  outcome?: string;
  dryRun: boolean;
  limits: IncidentLimits;
  playbook?: Playbook;
  severity?: Severity;
  severityHistory: IncidentRecord['severityHistory'];
  target?: TargetRef;
  targetUnresolvedReason?: string;
  alerts: {
    samples: Alert[];
    count: number;
    redeliveries: number;
    firing: number;
    resolved: number;
    recentIds: string[];
    lastAt?: string;
    /** Alerts received since the quiet period began. */
    sinceQuiet: number;
    rules: string[];
    users: string[];
    mitre: { techniques: string[]; tactics: string[] };
  };
  timeline: TimelineEntry[];
  timelineDropped: number;
  openGate?: OpenGate;
  /** Gate messages posted to Slack, for edits, reminders and escalations. */
  slackMessages: Partial<Record<GateName, SlackMessageRef>>;
  gates: GateResult[];
  /** Effective decision of each gate that has run. */
  decisions: Partial<Record<GateName, GateDecision>>;
  clocks: ClockRecord[];
  containment: ContainmentRecord[];
  inverses: InverseStep[];
  evidence?: IncidentRecord['evidence'];
  quietSince?: string;
  watchUntil?: string;
  standDown?: StandDownInput & { at: string };
  report?: { markdownPath: string; jsonPath: string };
  /** Base URL of the Temporal Web UI, for links in messages. */
  uiBaseUrl?: string;
  continuedRuns: number;
}
