import { z } from 'zod';
import { alertSchema } from './alert';

/** The response phases of an incident, in order. */
export const phaseSchema = z.enum(['detect', 'isolate', 'eradicate', 'recover', 'closed']);
export type Phase = z.infer<typeof phaseSchema>;

/** The three decision gates: isolate now, call external help, restore now. */
export const gateNameSchema = z.enum(['isolate', 'escalate', 'restore']);
export type GateName = z.infer<typeof gateNameSchema>;

export const gateDecisionSchema = z.enum(['approve', 'reject']);
export type GateDecision = z.infer<typeof gateDecisionSchema>;

/**
 * Channel a decision came through. Firebreak verifies only `slack`, because the Slack app checks Slack's
 * request signature. A `cli` or `api` identity is whatever the sender of the Update asserts.
 */
export const decisionChannelSchema = z.enum(['slack', 'cli', 'api']);
export type DecisionChannel = z.infer<typeof decisionChannelSchema>;

export const maxDeciderLength = 128;
export const maxReasonLength = 2000;

/** Letters, marks, numbers, punctuation, symbols and inner spaces: no control, format or separator characters. */
const printablePattern = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]([\p{L}\p{M}\p{N}\p{P}\p{S} ]*[\p{L}\p{M}\p{N}\p{P}\p{S}])?$/u;

/** Stable identity of a person: a Slack user id (`U…`) or an operator name from configuration. */
export const deciderSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(maxDeciderLength, `must be at most ${maxDeciderLength} characters`)
  .regex(printablePattern, 'must be printable text without control characters or leading and trailing spaces');

/**
 * C0 controls (line breaks and tabs included), DEL, C1 controls, and the Unicode line and bidi controls: a
 * terminal or log viewer acts on them instead of printing them.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the purpose of this pattern
const controlCharacterPattern = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Reason a person gives for a decision, recorded on the timeline and in the report. */
export const reasonSchema = z
  .string()
  .max(maxReasonLength, `must be at most ${maxReasonLength} characters`)
  .regex(/\S/, 'must not be empty or blank')
  .refine((text) => !controlCharacterPattern.test(text), {
    message: 'must not contain control characters (line breaks, tabs, escape sequences); write it on one line',
  });

/** A trusted image as `repository@sha256:<64 hex digits>`, the form `restoreWorkload` rolls out. */
export const imageDigestSchema = z
  .string()
  .max(512)
  .regex(/^[^\s@]+@sha256:[a-f0-9]{64}$/, 'must be repository@sha256: followed by 64 lowercase hex digits');

/** Input of the `decideGate` Update. */
export const decideGateInputSchema = z.object({
  gate: gateNameSchema,
  decision: gateDecisionSchema,
  decider: deciderSchema,
  channel: decisionChannelSchema,
  reason: reasonSchema.optional(),
  /**
   * Trusted image to roll the workload out on, with an approval of the restore gate when the playbook's
   * `trustedDigestSource` is `person`.
   */
  imageDigest: imageDigestSchema.optional(),
});
export type DecideGateInput = z.infer<typeof decideGateInputSchema>;

/** Input of the `standDown` Update. Containment stays in place unless `liftContainment` is set. */
export const standDownInputSchema = z.object({
  reason: reasonSchema,
  liftContainment: z.boolean(),
  by: deciderSchema,
  channel: decisionChannelSchema,
});
export type StandDownInput = z.infer<typeof standDownInputSchema>;

/**
 * A batch of alerts for one incident, as the intake signals it. Under a storm the intake sends the count
 * and a bounded sample; `storedAt` then names where the full list lies in the evidence store.
 */
export const alertBatchSchema = z.object({
  alerts: z.array(alertSchema),
  /** Alerts represented by this batch, at least `alerts.length`. */
  count: z.number().int().positive(),
  /** Alert ids that the intake had already seen (redeliveries), counted and not treated as new evidence. */
  redeliveries: z.number().int().nonnegative().default(0),
  storedAt: z.string().optional(),
  receivedAt: z.string(),
});
export type AlertBatch = z.infer<typeof alertBatchSchema>;

/** Workflow id of the incident for one fingerprint. */
export function incidentWorkflowId(fingerprint: string): string {
  return `incident-${fingerprint}`;
}
