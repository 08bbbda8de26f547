import type { Alert, AlertSummary, Severity } from '../domain/alert';
import type { DecisionChannel, GateDecision, GateName, Phase } from '../domain/incident';
import type { GatePolicy, Playbook } from '../domain/playbook';
import type {
  ClockRecord,
  ContainmentRecord,
  EscalateIncidentInput,
  GateApproval,
  GateResult,
  IncidentLimits,
  IncidentRecord,
  SlackMessageRef,
  TargetRef,
  TimelineEntry,
} from '../domain/response';
import type { InverseStep } from './compensation';
import type { PlaybookRatingState } from './playbook-rating';

/** Step of the workflow that a continued run resumes at; each stage boundary is a safe point. */
export type Stage =
  | 'triage'
  | 'isolateGate'
  | 'isolate'
  | 'containmentRetry'
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

/** Why a gate is open: the playbook's decision, or a person's choice after containment failed. */
export type GatePurpose = 'decision' | 'retry-containment';

/** A gate while it is open; kept in state so a continued run resumes the same wait. */
export interface OpenGate {
  gate: GateName;
  purpose: GatePurpose;
  /** Policy for the current severity; replaced when the severity rises while the gate is open. */
  policy: GatePolicy;
  severity: Severity;
  openedAt: string;
  deadlineAt: string;
  reminderAt: string;
  reminderSent: boolean;
  approvals: GateApproval[];
  /** Why the gate asks a person although the playbook would act or skip: shown in the gate message. */
  askReason?: string;
  /** Trusted image named by the first approval that carried one (restore gate). */
  imageDigest?: string;
  /** Members of the policy's approver groups, once Slack has listed them. */
  groupMembers?: string[];
  slackPostStarted: boolean;
  /** Decision taken by a person, applied by the gate step at its next wake-up. */
  decided?: GateResult;
}

/** Containment phases whose steps the playbook lists. */
export type ContainmentPhase = 'isolate' | 'eradicate';

/** A containment step that failed and was not run successfully since. */
export interface FailedStep {
  /** Position of the step in the playbook's containment list. */
  index: number;
  phase: ContainmentPhase;
  step: string;
  error: string;
  at: string;
}

/** A timeline entry with its position, so the audit and evictable lists merge back in order. */
export interface LoggedEntry extends TimelineEntry {
  seq: number;
}

/** Counts and samples of an incident's alerts, bounded by `IncidentLimits`. */
export interface AlertLedger {
  /** Compact copies of the first alerts: no raw event, long texts cut. */
  samples: Alert[];
  sampleBytes: number;
  /** Firing alerts. */
  count: number;
  resolvedCount: number;
  redeliveries: number;
  /** `alertDedupeKey` values of the latest alerts, for de-duplication. */
  recentKeys: string[];
  /** Time of the latest firing alert. */
  lastAt?: string;
  /** Firing alerts received since the quiet period began. */
  sinceQuiet: number;
  rules: string[];
  /** Distinct users named by alerts, for `forbidTriggerer`. */
  triggerers: string[];
  triggererBytes: number;
  /**
   * Set when some triggering users are unknown, with the reason. `forbidTriggerer` gates then forbid only the
   * users in `triggerers`.
   */
  triggerersIncomplete?: string;
  /** `alerts` signals dropped because their payload was not a valid alert batch. */
  invalidSignals?: number;
  mitre: { techniques: string[]; tactics: string[] };
  /** Raw bodies of sampled alerts not yet given to `storeAlertBodies`. */
  pendingBodies: unknown[];
  pendingBodyBytes: number;
  /** Sampled alerts whose raw body did not fit `maxPendingBodyBytes`; the intake's archive and history keep them. */
  bodiesSkipped: number;
}

/** A stand-down that was accepted. */
export interface StandDownRecord {
  reason: string;
  liftContainment: boolean;
  by: string;
  channel: DecisionChannel;
  at: string;
  /** Everyone whose request counted, when lifting containment needed two people. */
  approvals: GateApproval[];
}

/** The whole state of an incident, carried across continue-as-new. */
export interface IncidentState {
  incidentId: string;
  fingerprint: string;
  firstAlert?: AlertSummary;
  /** Run id of the closed incident with the same fingerprint that this one follows. */
  previousRunId?: string;
  stage: Stage;
  phase: Phase;
  phaseTimes: Partial<Record<Phase, string>>;
  openedAt: string;
  closedAt?: string;
  outcome?: string;
  dryRun: boolean;
  limits: IncidentLimits;
  playbook?: Playbook;
  /** Rating of later alerts by the playbook that would claim them; absent when the workflow input gave the playbook. */
  playbookRating?: PlaybookRatingState;
  severity?: Severity;
  severityHistory: IncidentRecord['severityHistory'];
  target?: TargetRef;
  targetUnresolvedReason?: string;
  alerts: AlertLedger;
  /** Firing alerts that arrived after the incident decided to close; they start the next incident. */
  lateAlerts?: { alerts: Alert[]; count: number; redeliveries: number; bytes: number };
  /** Evictable timeline entries: alerts and the notes they cause. */
  timeline: LoggedEntry[];
  timelineBytes: number;
  /** Decisions, gate events, steps, errors and clocks. */
  audit: LoggedEntry[];
  auditBytes: number;
  timelineDropped: number;
  /** Timeline entries ever recorded; the `seq` of the latest. */
  entrySeq: number;
  /** Rejected decision and stand-down attempts. */
  rejectedAttempts: number;
  openGate?: OpenGate;
  /** Gate messages posted to Slack, for edits, reminders and escalations. */
  slackMessages: Partial<Record<GateName, SlackMessageRef>>;
  gates: GateResult[];
  /** Effective decision of each gate that has run. */
  decisions: Partial<Record<GateName, GateDecision>>;
  clocks: ClockRecord[];
  containment: ContainmentRecord[];
  inverses: InverseStep[];
  failedSteps: FailedStep[];
  /** Phase whose failed containment steps a person may retry. */
  retryPhase?: ContainmentPhase;
  /** Times a person was asked whether to retry failed containment steps. */
  containmentRetries: number;
  /** Artefact references, bounded by `maxEvidenceRefBytes`, and the custody chain head with the most entries. */
  evidence?: IncidentRecord['evidence'];
  quietSince?: string;
  /** Set when the restore step began undoing containment. */
  restoreStartedAt?: string;
  watchUntil?: string;
  /** Firing alerts counted when the heightened watch began. */
  watchBaseline?: number;
  standDown?: StandDownRecord;
  /** A request to lift containment that waits for a second approver. */
  liftRequest?: { reason: string; approvals: GateApproval[] };
  /** Pages started and not yet finished; a continued run sends them again. */
  pendingPages: EscalateIncidentInput[];
  report?: { markdownPath: string; jsonPath: string };
  /** Base URL of the Temporal Web UI, for links in messages. */
  uiBaseUrl?: string;
  continuedRuns: number;
}
