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
 * One normalised alert. Attacker-chosen text (command lines, file names, rule output) is carried as data
 * in these fields and is never interpreted.
 */
export const alertSchema = z.object({
  /** Sender's event id when it has one (Falcosidekick `uuid`, Alertmanager fingerprint), else a content hash. */
  id: z.string(),
  source: alertSourceSchema,
  rule: z.string(),
  priority: prioritySchema,
  /** Severity the sender asks for, when it states one; the playbook decides the incident severity. */
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
});
export type Alert = z.infer<typeof alertSchema>;
