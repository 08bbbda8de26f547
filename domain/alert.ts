import { z } from 'zod';

/** Alert sources that the intake accepts. */
export const alertSourceSchema = z.enum(['falco', 'k8s_audit', 'alertmanager', 'generic']);
export type AlertSource = z.infer<typeof alertSourceSchema>;

/** Falco priorities, most severe first, in the letter case Falco documents. */
export const falcoPriorities = [
  'Emergency',
  'Alert',
  'Critical',
  'Error',
  'Warning',
  'Notice',
  'Informational',
  'Debug',
] as const;
export const prioritySchema = z.enum(falcoPriorities);
export type Priority = z.infer<typeof prioritySchema>;

/** Incident severity: P0 (cluster-wide, respond at once) to P3 (limited, within 24 hours). */
export const severitySchema = z.enum(['P0', 'P1', 'P2', 'P3']);
export type Severity = z.infer<typeof severitySchema>;

export const mitreSchema = z.object({
  techniques: z.array(z.string()),
  tactics: z.array(z.string()),
});

/** The Kubernetes or host scope that an alert points at. Unknown values are absent, never empty strings. */
export const alertTargetSchema = z.object({
  cluster: z.string().optional(),
  node: z.string().optional(),
  namespace: z.string().optional(),
  pod: z.string().optional(),
  container: z.string().optional(),
  containerId: z.string().optional(),
  image: z.string().optional(),
  /** Owner workload when the sender names it, as `Kind/name`. */
  workload: z.string().optional(),
});
export type AlertTarget = z.infer<typeof alertTargetSchema>;

export const alertProcessSchema = z.object({
  name: z.string().optional(),
  cmdline: z.string().optional(),
  exePath: z.string().optional(),
  parentName: z.string().optional(),
});

/** An Alertmanager notification group. */
export const alertGroupSchema = z.object({
  key: z.string(),
  /** Alerts that Alertmanager left out of the notification (`max_alerts`): the group is incomplete when above 0. */
  truncatedAlerts: z.number().int().nonnegative(),
});

/**
 * Record of an alert that the intake cut to keep it within Temporal's payload limits. The sender's full
 * event text is archived by the intake under its SHA-256, so nothing accepted is lost.
 */
export const alertTruncationSchema = z.object({
  /** SHA-256 of the sender's full event text (UTF-8), in lowercase hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Size of the sender's full event text in UTF-8 bytes. */
  bytes: z.number().int().nonnegative(),
  /** Paths of the cut values, such as `rawEvent` or `fields.proc.cmdline`. */
  cut: z.array(z.string()),
});
export type AlertTruncation = z.infer<typeof alertTruncationSchema>;

/**
 * One normalised alert. Attacker-chosen text (command lines, file names, rule output) is carried as data
 * in these fields and is never interpreted.
 */
export const alertSchema = z.object({
  /** Sender's event id when it has one (Falcosidekick `uuid`, Alertmanager fingerprint), else a content hash. */
  id: z.string(),
  source: alertSourceSchema,
  rule: z.string(),
  priority: prioritySchema,
  /** Severity that the sender requests, when it states one. The playbook decides the incident severity. */
  severityHint: severitySchema.optional(),
  /** Event time, ISO 8601 as the sender wrote it (nine fractional digits are kept). */
  eventTime: z.string(),
  /** Event time in nanoseconds since the epoch, as a decimal string: it exceeds a JS number's exact range. */
  eventTimeNs: z.string().optional(),
  /** Alertmanager status; a resolved alert never starts containment. */
  status: z.enum(['firing', 'resolved']).default('firing'),
  output: z.string().optional(),
  tags: z.array(z.string()),
  mitre: mitreSchema,
  target: alertTargetSchema,
  process: alertProcessSchema,
  user: z.string().optional(),
  /** Sender-specific fields with unknown values removed. */
  fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  /** True when the alert has no Kubernetes workload target and is scoped to its node. */
  hostScoped: z.boolean(),
  /**
   * False when the sender's priority named no Falco priority (for example `Urgent` or empty); `priority` is then
   * `Informational`, and the alert goes to human triage without automatic containment.
   */
  priorityRecognised: z.boolean().default(true),
  /** The sender's JSON text of this one event, kept for evidence with large integers written exactly. */
  rawEvent: z.string().optional(),
  /** The Alertmanager notification group this alert arrived in. */
  group: alertGroupSchema.optional(),
  /**
   * Stable identity of the sending system when the body names one: the generic `detector`, the Alertmanager
   * `job` or `prometheus` label, the Falco event source. It scopes alerts that name no target.
   */
  sender: z.string().optional(),
  /** Present when the intake cut long values of this alert, such as the start of `rawEvent` kept alone. */
  truncated: alertTruncationSchema.optional(),
});
export type Alert = z.infer<typeof alertSchema>;

/** Key fields of an alert, small enough to travel in workflow start arguments. */
export const alertSummarySchema = alertSchema.pick({
  id: true,
  source: true,
  rule: true,
  priority: true,
  severityHint: true,
  eventTime: true,
  status: true,
  target: true,
  hostScoped: true,
});
export type AlertSummary = z.infer<typeof alertSummarySchema>;

/**
 * Returns the key that identifies an alert within one incident, for de-duplication: the source and the sender's
 * id. Senders choose ids freely, so the same id from two sources names two different alerts.
 */
export function alertDedupeKey(alert: Pick<Alert, 'source' | 'id'>): string {
  return `${alert.source}:${alert.id}`;
}
