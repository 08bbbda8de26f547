import { z } from 'zod';
import { alertSchema, alertProcessSchema, severitySchema, type Alert } from '../alert';
import { sha256Hex } from '../sha256';
import {
  AlertBodyError,
  dropUnknownFields,
  extractMitre,
  normalisePriority,
  parseOrThrow,
  rawFieldValueSchema,
} from './common';
import { decodeEvents, type BodyFormat } from './json';

const workloadPattern = /^[A-Z][A-Za-z]+\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

const priorityTextSchema = z.string().transform((text, context) => {
  const priority = normalisePriority(text);
  if (priority === undefined) {
    context.addIssue({
      code: 'custom',
      message: `unknown priority "${text}": use a Falco priority (Emergency, Alert, Critical, Error, Warning, Notice, Informational, Debug) in any letter case`,
    });
    return z.NEVER;
  }
  return priority;
});

/**
 * Firebreak's generic alert, for senders without a dedicated endpoint (image scanners such as Trivy, custom
 * detectors). Objects are strict, so a misspelt key is rejected with its path instead of being ignored.
 */
export const genericAlertSchema = z.strictObject({
  /** Sender's event id; a resend with the same id counts as a redelivery. Defaults to a hash of the content. */
  id: z.string().min(1).max(256).optional(),
  /** Tool that raised the alert, such as `trivy`. */
  detector: z.string().min(1).max(128),
  rule: z.string().min(1).max(512),
  priority: priorityTextSchema,
  severity: severitySchema.optional(),
  time: z.iso.datetime({ offset: true }),
  /** Event time in nanoseconds since the epoch: a decimal string, or a JSON integer (kept exactly). */
  timeNs: z
    .union([
      z.string().regex(/^\d{1,25}$/, 'expected the nanoseconds as decimal digits'),
      z.number().int().nonnegative(),
    ])
    .transform(String)
    .optional(),
  status: z.enum(['firing', 'resolved']).default('firing'),
  output: z.string().optional(),
  tags: z.array(z.string()).default([]),
  target: z
    .strictObject({
      cluster: z.string().min(1).optional(),
      node: z.string().min(1).optional(),
      namespace: z.string().min(1).optional(),
      pod: z.string().min(1).optional(),
      container: z.string().min(1).optional(),
      containerId: z.string().min(1).optional(),
      image: z.string().min(1).optional(),
      workload: z.string().regex(workloadPattern, 'expected Kind/name, such as Deployment/checkout-api').optional(),
    })
    .default({}),
  process: alertProcessSchema.strict().default({}),
  user: z.string().optional(),
  fields: z.record(z.string(), rawFieldValueSchema).default({}),
});
export type GenericAlert = z.infer<typeof genericAlertSchema>;

/** Parses a generic body: one alert object, a JSON array of them, or (format `ndjson`) one alert a line. */
export function parseGenericBody(text: string, format: BodyFormat): Alert[] {
  return decodeEvents(text, format).map((event) => {
    const parsed = parseOrThrow(genericAlertSchema, event.value, event.path);
    return normaliseGenericAlert(parsed, event.rawEvent, event.path);
  });
}

/**
 * Normalises a generic alert. One that names a node but no namespace, pod or workload, or has container id
 * `host`, is scoped to its node. Raises `AlertBodyError` at `path.target.node` for container id `host` without
 * a node.
 */
export function normaliseGenericAlert(alert: GenericAlert, rawEvent: string, path: (string | number)[] = []): Alert {
  const { target } = alert;
  const hostScoped =
    target.containerId === 'host' ||
    (target.namespace === undefined &&
      target.pod === undefined &&
      target.workload === undefined &&
      target.node !== undefined);
  if (hostScoped && target.node === undefined) {
    const message = 'missing on a host alert (target.containerId host): set target.node to the node the process ran on';
    throw new AlertBodyError([{ path: [...path, 'target', 'node'], message }]);
  }

  return alertSchema.parse({
    id: alert.id ?? `generic-${sha256Hex(JSON.stringify(alert)).slice(0, 32)}`,
    source: 'generic',
    rule: alert.rule,
    priority: alert.priority,
    severityHint: alert.severity,
    eventTime: alert.time,
    eventTimeNs: alert.timeNs,
    status: alert.status,
    output: alert.output,
    tags: alert.tags,
    mitre: extractMitre(alert.tags),
    target: hostScoped ? { cluster: target.cluster, node: target.node, containerId: target.containerId } : target,
    process: alert.process,
    user: alert.user,
    fields: { ...dropUnknownFields(alert.fields), detector: alert.detector },
    hostScoped,
    rawEvent,
    sender: alert.detector,
  });
}
