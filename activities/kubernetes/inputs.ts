import { z } from 'zod';
import { permanentFailure } from './errors';

/** RFC 1123 label: namespaces, container names, Service names. */
const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 label');
/** RFC 1123 subdomain: pod, node and workload names. */
const dnsSubdomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 subdomain');
/** The incident id doubles as a label value, so it follows the label value syntax. */
const incidentId = z
  .string()
  .max(63)
  .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be a valid label value of at most 63 characters');
const labelMap = z.record(z.string().min(1), z.string());

export const resolveTargetInputSchema = z.object({
  incidentId,
  namespace: dnsLabel.optional(),
  pod: dnsSubdomain.optional(),
  /** Full or short (12 characters) container id, with or without the runtime prefix such as `containerd://`. */
  containerId: z
    .string()
    .regex(/^([a-z0-9-]+:\/\/)?[a-f0-9][a-f0-9-]{11,63}$/, 'must be a hex container id of 12 to 64 characters')
    .optional(),
  node: dnsSubdomain.optional(),
});

export const podActionInputSchema = z.object({
  incidentId,
  namespace: dnsLabel,
  pod: dnsSubdomain,
  /**
   * The uid the target had when it was resolved. When given, a pod of that name with another uid is a
   * replacement, and the call fails with `TargetReplaced` instead of acting on it.
   */
  podUid: z.string().min(1).optional(),
  dryRun: z.boolean(),
});

/** One egress destination that stays reachable from a quarantined pod. */
export const egressAllowSchema = z
  .object({
    cidr: z.cidrv4().or(z.cidrv6()).optional(),
    namespaceSelector: labelMap.optional(),
    ports: z.array(z.number().int().min(1).max(65535)).optional(),
  })
  .refine((rule) => rule.cidr !== undefined || rule.namespaceSelector !== undefined, {
    message: 'an egress allow rule needs a cidr or a namespaceSelector, otherwise it allows every destination',
  });

export const quarantinePodInputSchema = podActionInputSchema.extend({
  allowEgress: z.array(egressAllowSchema).max(16).optional(),
});

export const reattachPodInputSchema = podActionInputSchema.extend({ labels: labelMap });

export const nodeActionInputSchema = z.object({ incidentId, node: dnsSubdomain, dryRun: z.boolean() });

export const drainNodeInputSchema = nodeActionInputSchema.extend({
  gracePeriodSec: z.number().int().min(0).max(3600),
  /** Time budget for the whole drain, counted from the start of the activity attempt. */
  deadlineMs: z
    .number()
    .int()
    .min(0)
    .max(24 * 3600 * 1000),
});

export const deletePodInputSchema = podActionInputSchema.extend({
  gracePeriodSec: z.number().int().min(0).max(3600).optional(),
  /** The uid the target had when it was resolved; a pod with the same name but another uid is left alone. */
  uid: z.string().min(1).optional(),
});

export const scaleWorkloadInputSchema = z.object({
  incidentId,
  namespace: dnsLabel,
  kind: z.enum(['Deployment', 'StatefulSet']),
  name: dnsSubdomain,
  replicas: z.number().int().min(0).max(10000),
  /** True on the inverse call: restore the count this incident recorded, and never record a new one. */
  restore: z.boolean().optional(),
  dryRun: z.boolean(),
});

export const rolloutInputSchema = z.object({
  incidentId,
  namespace: dnsLabel,
  name: dnsSubdomain,
  dryRun: z.boolean(),
});

export const restoreWorkloadInputSchema = z.object({
  incidentId,
  namespace: dnsLabel,
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']),
  name: dnsSubdomain,
  container: dnsLabel,
  imageDigest: z.string().regex(/^[^\s@]+@sha256:[a-f0-9]{64}$/, 'must be repository@sha256:<64 hex digits>'),
  dryRun: z.boolean(),
});

/** Fields that bound what an activity touches: empty values throw `EmptyScope`, never widen the scope. */
const scopeFields = ['incidentId', 'namespace', 'pod', 'node', 'name'] as const;

/**
 * Validates an activity input. A required scope field (incident id, namespace, pod, node, workload name)
 * that is missing or blank throws a non-retryable `EmptyScope`. Any other invalid value throws
 * `KubernetesInvalid` naming the field path.
 */
export function parseInput<S extends z.ZodObject>(schema: S, input: unknown, activity: string): z.infer<S> {
  const record = input !== null && typeof input === 'object' ? input : {};
  for (const field of scopeFields) {
    const fieldSchema = schema.shape[field];
    if (fieldSchema === undefined) continue;
    const value: unknown = Reflect.get(record, field);
    const missing = value === undefined ? !fieldSchema.safeParse(undefined).success : false;
    if (missing || (typeof value === 'string' && value.trim() === '')) {
      throw permanentFailure('EmptyScope', `${activity} was called with an empty ${field}: name the exact ${field}`);
    }
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`);
    throw permanentFailure('KubernetesInvalid', `${activity} input is invalid: ${issues.join('; ')}`);
  }
  return parsed.data;
}
