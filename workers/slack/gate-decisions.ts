import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { gateNameSchema, type DecideGateInput, type GateName } from '../../domain/incident';
import { gateStatusSchema } from '../../domain/response-record';
import { decideGateUpdate, gateDecisionRejectedType, statusQuery } from '../../workflows/messages';

/**
 * The Slack app's view of incidents: reads a gate through the `status` query and decides it through the
 * `decideGate` Update. A decision the workflow rejects comes back as `GateDecisionRejected` with its reason.
 */

/** The parts of the `status` query result that a click needs, checked at this edge. */
const gateViewSchema = z.object({
  gate: gateNameSchema,
  state: z.enum(['pending', 'open', 'closed']),
  approvers: z.array(z.string()),
  approvals: z.array(z.string()),
  requiredApprovals: z.number().int(),
  result: z.object({ status: gateStatusSchema, decider: z.string().optional(), at: z.string() }).optional(),
});
export type GateView = z.infer<typeof gateViewSchema>;

const incidentViewSchema = z.object({
  incidentId: z.string(),
  phase: z.string(),
  gates: z.array(gateViewSchema),
});
export type IncidentView = z.infer<typeof incidentViewSchema>;

const decideResultSchema = z.object({
  gate: gateNameSchema,
  status: z.union([gateStatusSchema, z.literal('open')]),
  decider: z.string(),
  at: z.string(),
});
export type DecideResult = z.infer<typeof decideResultSchema>;

/** A decision that the workflow, or the state read before it, does not allow. Nothing was changed. */
export class GateDecisionRejected extends Error {
  override name = 'GateDecisionRejected';
}

export interface GateDecisions {
  /** Reads the incident; throws `GateDecisionRejected` when it does not exist. */
  readIncident(incidentId: string): Promise<IncidentView>;
  decide(incidentId: string, input: DecideGateInput): Promise<DecideResult>;
}

/** Returns why a decision on `gate` must be rejected, judged from the incident's state, or undefined. */
export function rejectionFromState(incident: IncidentView, gate: GateName): string | undefined {
  if (incident.phase === 'closed') {
    return `incident ${incident.incidentId} is closed, so its gates take no decisions`;
  }
  const view = incident.gates.find((candidate) => candidate.gate === gate);
  if (view === undefined || view.state === 'pending') {
    return `gate ${gate} of incident ${incident.incidentId} is not open`;
  }
  if (view.state === 'closed') {
    const by = view.result?.decider === undefined ? '' : ` by ${view.result.decider}`;
    return `gate ${gate} was already decided: ${view.result?.status ?? 'closed'}${by}`;
  }
  return undefined;
}

function isRejection(error: unknown): error is WorkflowUpdateFailedError & { cause: ApplicationFailure } {
  return error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure;
}

/** Builds `GateDecisions` over a Temporal client. */
export function createTemporalGateDecisions(client: Client): GateDecisions {
  return {
    async readIncident(incidentId) {
      try {
        const status: unknown = await client.workflow.getHandle(incidentId).query(statusQuery);
        return incidentViewSchema.parse(status);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) {
          throw new GateDecisionRejected(`incident ${incidentId} was not found`);
        }
        throw error;
      }
    },

    async decide(incidentId, input) {
      try {
        const result: unknown = await client.workflow.getHandle(incidentId).executeUpdate(decideGateUpdate, {
          args: [input],
        });
        return decideResultSchema.parse(result);
      } catch (error) {
        if (isRejection(error)) {
          const known = error.cause.type === gateDecisionRejectedType;
          throw new GateDecisionRejected(known ? error.cause.message : `invalid decision: ${error.cause.message}`);
        }
        if (error instanceof WorkflowNotFoundError) {
          throw new GateDecisionRejected(`incident ${incidentId} is closed, so its gates take no decisions`);
        }
        throw error;
      }
    },
  };
}
