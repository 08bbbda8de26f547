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

/** Where a decision came from. */
export const decisionChannelSchema = z.enum(['slack', 'cli', 'api']);

/** Input of the `decideGate` Update. */
export const decideGateInputSchema = z.object({
  gate: gateNameSchema,
  decision: gateDecisionSchema,
  /** Stable identity of the person: a Slack user id (`U…`) or an operator name from configuration. */
  decider: z.string().min(1),
  channel: decisionChannelSchema,
  reason: z.string().max(2000).optional(),
});
export type DecideGateInput = z.infer<typeof decideGateInputSchema>;

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
