import { ApplicationFailure } from '@temporalio/workflow';
import { decideGateInputSchema, type DecideGateInput } from '../domain/incident';
import { approverProblem, secondApprovalProblem } from './approvers';
import { gateDecisionRejectedType, type DecideGateResult } from './messages';
import { imageRepository } from './rollout';
import type { IncidentState, OpenGate } from './state';
import { msUntil, nowIso, record } from './timeline';

/** Rejected attempts kept in the audit list; later ones go to the evictable list, so they cannot flood it. */
const maxAuditedRejections = 100;

/**
 * Validator of the `decideGate` Update: rejects input that does not parse, such as an unknown gate, an
 * empty or over-long decider or reason, or a malformed image digest. It cannot record anything, because
 * validators must not change state; every other check runs in the handler.
 */
export function validateDecisionInput(input: unknown): void {
  const parsed = decideGateInputSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`);
    throw new Error(`invalid gate decision: ${issues.join('; ')}`);
  }
}

/** Records a rejected decision or stand-down attempt; past the first 100 they may be evicted by alerts. */
export function recordRejection(state: IncidentState, summary: string, data: Record<string, unknown>): void {
  state.rejectedAttempts += 1;
  record(state, 'decision', summary, data, { evictable: state.rejectedAttempts > maxAuditedRejections });
}

function openGateProblem(state: IncidentState, input: DecideGateInput): string | undefined {
  const open = state.openGate;
  if (open === undefined || open.gate !== input.gate) {
    const earlier = state.gates.findLast((result) => result.gate === input.gate);
    return earlier
      ? `gate ${input.gate} was already decided: ${earlier.status}${earlier.decider ? ` by ${earlier.decider}` : ''}`
      : `gate ${input.gate} is not open; the open gate is ${open?.gate ?? 'none'}`;
  }
  if (open.decided !== undefined) {
    return `gate ${input.gate} was already decided: ${open.decided.status} by ${open.decided.decider ?? 'unknown'}`;
  }
  if (msUntil(open.deadlineAt) === 0) {
    return `the deadline of gate ${input.gate} passed at ${open.deadlineAt}, so the playbook default (${open.policy.onTimeout}) applies`;
  }
  return undefined;
}

function imageDigestProblem(state: IncidentState, open: OpenGate, input: DecideGateInput): string | undefined {
  if (input.imageDigest === undefined) return undefined;
  if (input.gate !== 'restore') {
    return `an image digest applies only to the restore gate, not to gate ${input.gate}`;
  }
  if (input.decision !== 'approve') {
    return 'an image digest comes only with approve: a rejected restore rolls nothing out';
  }
  if (state.playbook?.restore.trustedDigestSource !== 'person') {
    return 'this playbook lists its trusted image digests itself, so a decision may not name one; leave out the image digest';
  }
  if (open.imageDigest !== undefined && open.imageDigest !== input.imageDigest) {
    return `gate restore was already approved for ${open.imageDigest}; approve the same image digest or none`;
  }
  return unknownRepositoryProblem(state, input.imageDigest);
}

/** Rejects a digest whose repository is not the image of any container of the target, such as a mistyped name. */
function unknownRepositoryProblem(state: IncidentState, imageDigest: string): string | undefined {
  const repository = imageRepository(imageDigest);
  const images = state.target?.images ?? [];
  if (images.some((image) => imageRepository(image.image) === repository)) return undefined;
  const known = [...new Set(images.map((image) => imageRepository(image.image)))].join(', ');
  return `image ${imageDigest} is not from a repository of the target's containers (${known || 'none known'}); name a digest of one of them`;
}

function rejectionReason(state: IncidentState, input: DecideGateInput): string | undefined {
  if (state.phase === 'closed') {
    return `incident ${state.incidentId} is closed, so its gates take no decisions`;
  }
  // The gate step closes an open gate once it finds the stand-down, but a decision delivered in the same
  // workflow task as the stand-down reaches this handler first.
  const standDown = state.standDown;
  if (standDown !== undefined) {
    return `incident ${state.incidentId} was stood down by ${standDown.by} at ${standDown.at}, so its gates take no decisions`;
  }
  const problem = openGateProblem(state, input);
  const open = state.openGate;
  if (problem !== undefined || open === undefined) return problem ?? `gate ${input.gate} is not open`;
  const subject = `gate ${input.gate}`;
  return (
    imageDigestProblem(state, open, input) ??
    approverProblem(state, open.policy, open.groupMembers, subject, input.decider) ??
    (input.decision === 'approve'
      ? secondApprovalProblem(open.approvals, input.decider, input.channel, subject)
      : undefined)
  );
}

function applyDecision(open: OpenGate, input: DecideGateInput, at: string): DecideGateResult {
  const base = { gate: input.gate, decider: input.decider, channel: input.channel, at, reason: input.reason };
  if (input.decision === 'reject') {
    const approvals = [...open.approvals, { decider: input.decider, channel: input.channel, at }];
    const deciders = approvals.map((approval) => approval.decider);
    open.decided = { ...base, status: 'rejected', decision: 'reject', deciders, approvals };
    return { gate: input.gate, status: 'rejected', decider: input.decider, at };
  }

  open.approvals.push({ decider: input.decider, channel: input.channel, at });
  open.imageDigest ??= input.imageDigest;
  const required = open.policy.twoPerson ? 2 : 1;
  if (open.approvals.length < required) {
    return { gate: input.gate, status: 'open', decider: input.decider, at };
  }
  const approvals = [...open.approvals];
  const deciders = approvals.map((approval) => approval.decider);
  const digest = open.imageDigest === undefined ? {} : { imageDigest: open.imageDigest };
  open.decided = { ...base, status: 'approved', decision: 'approve', deciders, approvals, ...digest };
  return { gate: input.gate, status: 'approved', decider: input.decider, at };
}

/**
 * Handler of the `decideGate` Update. It runs without awaiting, so two racing decisions are applied one
 * after the other: the first closes the gate and the second is rejected. A decision whose workflow time is
 * past the gate's deadline is rejected, so the default applies. A rejected attempt is recorded on the
 * timeline and fails the Update with type `GateDecisionRejected`; it changes nothing else.
 */
export function decideGate(state: IncidentState, rawInput: DecideGateInput): DecideGateResult {
  const input = decideGateInputSchema.parse(rawInput);
  const attempt = { gate: input.gate, decision: input.decision, decider: input.decider, channel: input.channel };
  const problem = rejectionReason(state, input);
  if (problem !== undefined || state.openGate === undefined) {
    const reason = problem ?? `gate ${input.gate} is not open`;
    recordRejection(
      state,
      `rejected ${input.decision} on gate ${input.gate} by ${input.decider} via ${input.channel}: ${reason}`,
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
    { ...attempt, reason: input.reason, imageDigest: input.imageDigest },
  );
  return result;
}
