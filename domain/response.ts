import type { Alert, AlertSummary, Severity } from './alert';
import type { AlertBatch } from './incident';
import type { IncidentRecord, TargetRef } from './response-record';
import type { Playbook } from './playbook';
import type { EscalationActivities, SlackActivities } from './response-notify';

/**
 * Shapes exchanged between the incident workflow and its activities. The activity interfaces are the
 * contract that `proxyActivities` types against; every input and output is small JSON (under 4 KiB).
 */

export interface ResolveTargetInput {
  incidentId: string;
  namespace?: string;
  pod?: string;
  containerId?: string;
  node?: string;
}
export type ResolveTargetResult = { status: 'resolved'; target: TargetRef } | { status: 'unresolved'; reason: string };

export interface PodActionInput {
  incidentId: string;
  namespace: string;
  pod: string;
  /** The uid the target had when it was resolved; a pod of that name with another uid fails with `TargetReplaced`. */
  podUid?: string;
  dryRun: boolean;
}
export interface QuarantinePodInput extends PodActionInput {
  /** Egress destinations that stay reachable, for example DNS or the evidence collector. */
  allowEgress?: { cidr?: string; namespaceSelector?: Record<string, string>; ports?: number[] }[];
}
export interface QuarantinePodResult {
  policyName: string;
  isolation: 'complete' | 'incomplete';
  /** Other NetworkPolicies that select the pod and still allow traffic. */
  allowingPolicies: string[];
  dryRun: boolean;
}
export interface DetachPodResult {
  removedLabels: Record<string, string>;
}
export interface ReattachPodInput extends PodActionInput {
  labels: Record<string, string>;
}
export interface NodeActionInput {
  incidentId: string;
  node: string;
  dryRun: boolean;
}
export interface CordonNodeResult {
  wasUnschedulable: boolean;
}
export interface DrainNodeInput extends NodeActionInput {
  gracePeriodSec: number;
  deadlineMs: number;
}
export interface DrainNodeResult {
  evicted: string[];
  skipped: string[];
  blocked: { pod: string; reason: string }[];
  complete: boolean;
}
export interface DeletePodInput extends PodActionInput {
  gracePeriodSec?: number;
  /** The uid the target had when it was resolved; a pod with the same name but another uid is left alone. */
  uid?: string;
}
export interface DeletePodResult {
  deleted: boolean;
  /** True when no controller owns the pod, so nothing replaces it. */
  standalone: boolean;
}
export type ScalableKind = 'Deployment' | 'StatefulSet';
export interface ScaleWorkloadInput {
  incidentId: string;
  namespace: string;
  kind: ScalableKind;
  name: string;
  replicas: number;
  /** True on the inverse call: restore the count this incident recorded. */
  restore?: boolean;
  dryRun: boolean;
}
export interface ScaleWorkloadResult {
  previousReplicas: number;
}
export interface RolloutInput {
  incidentId: string;
  namespace: string;
  name: string;
  dryRun: boolean;
}
export interface RestoreWorkloadInput {
  incidentId: string;
  namespace: string;
  kind: string;
  name: string;
  container: string;
  /** Trusted image as `repository@sha256:…`. */
  imageDigest: string;
  dryRun: boolean;
}

/** Kubernetes activities, implemented in `activities/kubernetes/`. */
export interface KubernetesActivities {
  resolveTarget(input: ResolveTargetInput): Promise<ResolveTargetResult>;
  quarantinePod(input: QuarantinePodInput): Promise<QuarantinePodResult>;
  releasePodQuarantine(input: PodActionInput): Promise<unknown>;
  detachPod(input: PodActionInput): Promise<DetachPodResult>;
  reattachPod(input: ReattachPodInput): Promise<unknown>;
  cordonNode(input: NodeActionInput): Promise<CordonNodeResult>;
  uncordonNode(input: NodeActionInput): Promise<unknown>;
  drainNode(input: DrainNodeInput): Promise<DrainNodeResult>;
  deletePod(input: DeletePodInput): Promise<DeletePodResult>;
  scaleWorkload(input: ScaleWorkloadInput): Promise<ScaleWorkloadResult>;
  pauseRollout(input: RolloutInput): Promise<unknown>;
  resumeRollout(input: RolloutInput): Promise<unknown>;
  restoreWorkload(input: RestoreWorkloadInput): Promise<unknown>;
}

/** Size and time limits for evidence collection. */
export interface EvidenceLimits {
  maxLogBytes?: number;
  execDeadlineMs?: number;
  maxArtefactBytes?: number;
}
/** Evidence kinds that `collectEvidence` takes. */
export type CollectorKind = 'objects' | 'logs' | 'exec' | 'checkpoint';

export interface CollectEvidenceInput {
  incidentId: string;
  target: TargetRef;
  kinds: CollectorKind[];
  limits: EvidenceLimits;
  /** Keep Secret values in the raw artefacts; reports always show redacted copies. */
  keepSecretsInRaw?: boolean;
}
export interface EvidenceArtefactRef {
  name: string;
  sha256: string;
  bytes: number;
  incomplete?: boolean;
  truncated?: boolean;
  /** True when the cluster does not offer this kind of evidence. */
  unsupported?: boolean;
}
export interface CollectEvidenceResult {
  manifestPath: string;
  artefacts: EvidenceArtefactRef[];
  /** `entrySha256` of the last custody entry after the call; absent when the chain is empty. */
  custodyHeadSha256?: string;
  /** Entries in the incident's custody chain after the call. */
  custodyEntryCount?: number;
  /** Artefacts left out of `artefacts` to keep the result small; the custody manifest lists them all. */
  omittedArtefacts?: number;
}

/** Evidence activities, implemented in `activities/evidence/`. */
export interface EvidenceActivities {
  collectEvidence(input: CollectEvidenceInput): Promise<CollectEvidenceResult>;
  storeAlertBodies(input: {
    incidentId: string;
    bodies: unknown[];
    keepSecretsInRaw?: boolean;
  }): Promise<CollectEvidenceResult>;
}

/** Report activity, implemented in `activities/report/`. */
export interface ReportActivities {
  writeIncidentReport(input: { incidentId: string; record: IncidentRecord }): Promise<{
    markdownPath: string;
    jsonPath: string;
  }>;
}

/** The playbook that matched the incident's first alert, pinned for the incident's lifetime. */
export interface SelectPlaybookResult {
  playbook: Playbook;
  /** Reason this playbook claims the alert. */
  selectionReason: string;
  /** True when no playbook claimed the alert and the built-in triage playbook applies. */
  usedDefault: boolean;
  severity: Severity;
  severityReason: string;
}

/** Playbook selection, implemented in `activities/playbooks.ts`. */
export interface PlaybookActivities {
  selectPlaybook(input: { alert: Alert }): Promise<SelectPlaybookResult>;
}

/**
 * Bounds on what one incident keeps in state and history. The state travels whole through continue-as-new,
 * whose input Temporal rejects above 2 MB by default, so every list that outside input can grow is bounded
 * by count and by bytes.
 */
export interface IncidentLimits {
  /** Alerts kept as compact samples; later alerts are counted only. */
  maxAlertSamples: number;
  /** UTF-8 bytes of all compact samples together. */
  maxAlertSampleBytes: number;
  /** UTF-8 bytes of the raw alert bodies waiting for `storeAlertBodies`. */
  maxPendingBodyBytes: number;
  /** Alert and other evictable timeline entries kept. */
  maxTimelineEntries: number;
  /** UTF-8 bytes of the evictable timeline entries. */
  maxTimelineBytes: number;
  /** UTF-8 bytes of the audit entries (decisions, gate events, steps, errors, clocks), which alerts never evict. */
  maxAuditBytes: number;
  /** Alert keys remembered to recognise redeliveries. */
  maxRecentAlertIds: number;
  /**
   * Distinct triggering users remembered for `forbidTriggerer`. Past this bound a gate that forbids the
   * triggerer accepts no approval, because the triggerer is no longer known for sure.
   */
  maxTriggerUsers: number;
  /** History length at which the workflow continues as new, unless Temporal suggests it earlier. */
  maxHistoryEvents: number;
}

/** Argument of `incidentWorkflow`, as the intake starts it with `signalWithStart` and the `alerts` signal. */
export interface IncidentWorkflowInput {
  fingerprint: string;
  /**
   * Key fields of the alert that started the incident. The intake always sends them; the alert itself
   * arrives whole in the `alerts` signal of the same call.
   */
  firstAlert?: AlertSummary;
  /** Run every mutating step with server-side dry run, whatever the playbook sets. */
  dryRun?: boolean;
  /**
   * A parsed playbook to pin instead of selecting one from the playbook directory (tests, manual
   * incidents); the workflow checks it with `resolvedPlaybookSchema`.
   */
  playbook?: Playbook;
  limits?: Partial<IncidentLimits>;
  /** Run id of the closed incident with the same fingerprint, when this incident follows one. */
  previousRunId?: string;
  /** Base URL of the Temporal Web UI, for links in gate messages. */
  uiBaseUrl?: string;
  /**
   * Task queue of the evidence and report activities, served by a worker that runs as the evidence identity.
   * When absent they run on the workflow's own task queue. Continue-as-new and the next incident keep it.
   */
  evidenceTaskQueue?: string;
  /**
   * Alerts that reached the previous incident after it decided to close; the new incident starts with
   * them. Set only by the workflow when it continues as new into the next incident.
   */
  lateAlerts?: AlertBatch;
}

/** Result of the incident workflow when it closes. */
export interface IncidentResult {
  incidentId: string;
  outcome: string;
  severity?: Severity;
  report?: { markdownPath: string; jsonPath: string };
}

/** Every activity the incident workflow calls. */
export type FirebreakActivities = KubernetesActivities &
  EvidenceActivities &
  ReportActivities &
  PlaybookActivities &
  SlackActivities &
  EscalationActivities;

export * from './response-record';
export * from './response-notify';
