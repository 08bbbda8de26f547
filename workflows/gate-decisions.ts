import { ApplicationFailure } from '@temporalio/workflow';
import { decideGateInputSchema, type DecideGateInput } from '../domain/incident';
import { gateDecisionRejectedType, type DecideGateResult } from './messages';
import type { IncidentState, OpenGate } from './state';
import { nowIso, record } from './timeline';

/**
 * Validator of the `decideGate` Update: rejects input that does not parse. It cannot record anything,
 * because validators must not change state; every other check runs in the handler.
 */
export function validateDecisionInput(input: unknown): void {
  const parsed = decideGateInputSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`);
    throw new Error(`invalid gate decision: ${issues.join('; ')}`);
  }
}

function rejectionReason(state: IncidentState, input: DecideGateInput): string | undefined {
  if (state.phase === 'closed') {
    return `incident ${state.incidentId} is closed, so its gates take no decisions`;
  }
  const open = state.openGate;
  if (open === undefined || open.gate !== input.gate) {
    const earlier = state.gates.find((result) => result.gate === input.gate);
    return earlier
      ? `gate ${input.gate} was already decided: ${earlier.status}${earlier.decider ? ` by ${earlier.decider}` : ''}`
      : `gate ${input.gate} is not open; the open gate is ${open?.gate ?? 'none'}`;
  }
  if (open.decided !== undefined) {
    return `gate ${input.gate} was already decided: ${open.decided.status} by ${open.decided.decider ?? 'unknown'}`;
  }
  return approverProblem(state, open, input);
}

function approverProblem(state: IncidentState, open: OpenGate, input: DecideGateInput): string | undefined {
  const { approvers, approverGroups } = open.policy;
  if (approvers.length === 0 && approverGroups.length === 0) {
    return `gate ${input.gate} has no approvers in the playbook, so nobody may decide it`;
  }
  const members = open.groupMembers ?? [];
  if (!approvers.includes(input.decider) && !members.includes(input.decider)) {
    const pending = approverGroups.length > 0 && open.groupMembers === undefined;
    const groups = pending ? ' (its approver groups are not listed yet because Slack has not answered)' : '';
    return `${input.decider} is not on the approver list of gate ${input.gate}${groups}`;
  }
  if (open.policy.forbidTriggerer && state.alerts.users.includes(input.decider)) {
    return `${input.decider} triggered this incident and may not decide gate ${input.gate}`;
  }
  if (input.decision === 'approve' && open.approvals.includes(input.decider)) {
    return `${input.decider} already approved gate ${input.gate}; a second, different approver is needed`;
  }
  return undefined;
}

function applyDecision(open: OpenGate, input: DecideGateInput, at: string): DecideGateResult {
  const base = { gate: input.gate, decider: input.decider, channel: input.channel, at, reason: input.reason };
  if (input.decision === 'reject') {
    open.decided = { ...base, status: 'rejected', decision: 'reject', deciders: [...open.approvals, input.decider] };
    return { gate: input.gate, status: 'rejected', decider: input.decider, at };
  }

  open.approvals.push(input.decider);
  const required = open.policy.twoPerson ? 2 : 1;
  if (open.approvals.length < required) {
    return { gate: input.gate, status: 'open', decider: input.decider, at };
  }
  open.decided = { ...base, status: 'approved', decision: 'approve', deciders: [...open.approvals] };
  return { gate: input.gate, status: 'approved', decider: input.decider, at };
}

/**
 * Handler of the `decideGate` Update. It runs without awaiting, so two racing decisions are applied one
 * after the other: the first closes the gate and the second is rejected. A rejected attempt is recorded
 * on the timeline and fails the Update with type `GateDecisionRejected`; it changes nothing else.
 */
export function decideGate(state: IncidentState, rawInput: DecideGateInput): DecideGateResult {
  const input = decideGateInputSchema.parse(rawInput);
  const attempt = { gate: input.gate, decision: input.decision, decider: input.decider, channel: input.channel };
  const problem = rejectionReason(state, input);
  if (problem !== undefined || state.openGate === undefined) {
    const reason = problem ?? `gate ${input.gate} is not open`;
    record(
      state,
      'decision',
      `rejected ${input.decision} on gate ${input.gate} by ${input.decider}: ${reason}`,
      attempt,
    );
    throw ApplicationFailure.nonRetryable(reason, gateDecisionRejectedType, attempt);
  }

  const result = applyDecision(state.openGate, input, nowIso());
  const progress = result.status === 'open' ? ' (waiting for a second approver)' : '';
  record(
    state,
    'decision',
    `${input.decider} chose ${input.decision} on gate ${input.gate} via ${input.channel}${progress}`,
    {
      ...attempt,
      reason: input.reason,
    },
  );
  return result;
}
