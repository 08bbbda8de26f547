import { z } from 'zod';
import { severitySchema } from './alert';
import { decisionChannelSchema, gateDecisionSchema, gateNameSchema, phaseSchema } from './incident';

/** The Kubernetes object an incident acts on, as resolved from the alert. */
export const targetRefSchema = z.object({
  namespace: z.string().min(1),
  pod: z.string().min(1),
  uid: z.string(),
  resourceVersion: z.string(),
  node: z.string().optional(),
  serviceAccount: z.string().optional(),
  owners: z.array(z.object({ kind: z.string(), name: z.string(), uid: z.string() })),
  /** Top owner of the pod: Deployment, StatefulSet, DaemonSet, Job, CronJob or ReplicaSet. */
  workload: z.object({ kind: z.string(), name: z.string() }).optional(),
  images: z.array(z.object({ container: z.string(), image: z.string(), imageID: z.string().optional() })),
  labels: z.record(z.string(), z.string()),
});
export type TargetRef = z.infer<typeof targetRefSchema>;

export const timelineKindSchema = z.enum(['alert', 'step', 'decision', 'error', 'clock', 'note']);
export type TimelineKind = z.infer<typeof timelineKindSchema>;

/** One line of the incident timeline; `at` is ISO 8601 workflow time. */
export const timelineEntrySchema = z.object({
  at: z.string(),
  kind: timelineKindSchema,
  summary: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

/** Outcome of a gate: `auto` when the playbook acts without asking, `skipped` when it does not ask at all. */
export const gateStatusSchema = z.enum(['approved', 'rejected', 'timed_out', 'skipped', 'auto']);
export type GateStatus = z.infer<typeof gateStatusSchema>;

/** One approval of a gate, with the channel it came through. */
export const gateApprovalSchema = z.object({
  decider: z.string(),
  channel: decisionChannelSchema,
  at: z.string(),
});
export type GateApproval = z.infer<typeof gateApprovalSchema>;

export const gateResultSchema = z.object({
  gate: gateNameSchema,
  status: gateStatusSchema,
  /** The effective decision: what the workflow does next. */
  decision: gateDecisionSchema.optional(),
  decider: z.string().optional(),
  /** Every person whose approval counted, in order, when the gate needs two people. */
  deciders: z.array(z.string()).optional(),
  /** Every approval that counted, with its channel, when people decided. */
  approvals: z.array(gateApprovalSchema).optional(),
  /** Channel of the decision that closed the gate; `cli` and `api` identities are asserted, not verified. */
  channel: decisionChannelSchema.optional(),
  at: z.string(),
  reason: z.string().optional(),
  /** Set when the deadline passed and the playbook's default decided. */
  defaultApplied: gateDecisionSchema.optional(),
  /** Trusted image that the approver of the restore gate named, as `repository@sha256:…`. */
  imageDigest: z.string().optional(),
});
export type GateResult = z.infer<typeof gateResultSchema>;

export const clockNameSchema = z.enum(['response', 'detect', 'isolate', 'eradicate']);
export type ClockName = z.infer<typeof clockNameSchema>;

/** A response-time target measured from the first alert. */
export const clockRecordSchema = z.object({
  name: clockNameSchema,
  targetMs: z.number().int().nonnegative(),
  startedAt: z.string(),
  dueAt: z.string(),
  metAt: z.string().optional(),
  missedAt: z.string().optional(),
  /** Set when the incident was stood down before the clock's work was done, so it was neither met nor missed. */
  stoppedAt: z.string().optional(),
});
export type ClockRecord = z.infer<typeof clockRecordSchema>;

export const inverseStatusSchema = z.enum(['pending', 'done', 'failed', 'not_needed', 'kept']);

/** A containment step that ran, with the state of the step that undoes it. */
export const containmentRecordSchema = z.object({
  step: z.string(),
  summary: z.string(),
  at: z.string(),
  dryRun: z.boolean(),
  status: z.enum(['done', 'failed']),
  error: z.string().optional(),
  result: z.record(z.string(), z.unknown()).optional(),
  inverse: z.object({
    activity: z.string().optional(),
    status: inverseStatusSchema,
    at: z.string().optional(),
    error: z.string().optional(),
  }),
});
export type ContainmentRecord = z.infer<typeof containmentRecordSchema>;

export const severityChangeSchema = z.object({
  severity: severitySchema,
  at: z.string(),
  reason: z.string(),
});

/**
 * What the workflow keeps about the incident's evidence: small references, and the custody chain head that
 * anchors the store's manifest outside the store.
 */
export const evidenceRecordSchema = z.object({
  manifestPath: z.string(),
  artefacts: z.array(
    z.object({
      name: z.string(),
      sha256: z.string(),
      bytes: z.number(),
      incomplete: z.boolean().optional(),
      truncated: z.boolean().optional(),
      unsupported: z.boolean().optional(),
    }),
  ),
  /** Artefacts left out of `artefacts` to keep the record bounded; the custody manifest lists them all. */
  omittedArtefacts: z.number().int().nonnegative().optional(),
  /** `entrySha256` of the last custody entry that the collections reported, the longest chain seen. */
  custodyHeadSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** Entries in the custody chain when `custodyHeadSha256` was its last one. */
  custodyEntryCount: z.number().int().positive().optional(),
});
export type EvidenceRecord = z.infer<typeof evidenceRecordSchema>;

/** Everything the incident report is built from. */
export const incidentRecordSchema = z.object({
  incidentId: z.string(),
  fingerprint: z.string(),
  playbook: z.object({ name: z.string(), version: z.string() }),
  dryRun: z.boolean(),
  severity: severitySchema,
  severityHistory: z.array(severityChangeSchema),
  phase: phaseSchema,
  /** When each phase was entered. */
  phaseTimes: z.partialRecord(phaseSchema, z.string()),
  openedAt: z.string(),
  closedAt: z.string().optional(),
  outcome: z.string(),
  clocks: z.array(clockRecordSchema),
  target: targetRefSchema.optional(),
  targetUnresolvedReason: z.string().optional(),
  /**
   * Timeline entries in the order they happened. Decisions, gate events, steps, errors and clocks are kept
   * apart from alert entries, so an alert storm never pushes them out.
   */
  timeline: z.array(timelineEntrySchema),
  /** Entries dropped from the timeline to keep it bounded: alert entries first, audit entries past their own limit. */
  timelineDropped: z.number().int().nonnegative(),
  gates: z.array(gateResultSchema),
  containment: z.array(containmentRecordSchema),
  evidence: evidenceRecordSchema.optional(),
  /** Firing alerts; resolved alerts are counted in `resolvedCount`. */
  alertCount: z.number().int().nonnegative(),
  redeliveries: z.number().int().nonnegative(),
  rules: z.array(z.string()),
  mitre: z.object({ techniques: z.array(z.string()), tactics: z.array(z.string()) }),
  /** Resolved alerts, counted apart from `alertCount`. */
  resolvedCount: z.number().int().nonnegative().optional(),
  standDown: z
    .object({
      reason: z.string(),
      by: z.string(),
      at: z.string(),
      liftContainment: z.boolean(),
      channel: decisionChannelSchema.optional(),
      /** Everyone whose request counted, when lifting containment needed two people. */
      approvals: z.array(gateApprovalSchema).optional(),
    })
    .optional(),
});
export type IncidentRecord = z.infer<typeof incidentRecordSchema>;
