import { ApplicationFailure } from '@temporalio/workflow';
import { gateNameSchema, standDownInputSchema, type GateName, type StandDownInput } from '../domain/incident';
import { gatePolicyFor, type GatePolicy } from '../domain/playbook';
import type { GateApproval } from '../domain/response';
import { approverProblem, isListed, secondApprovalProblem } from './approvers';
import { recordRejection } from './gate-decisions';
import { standDownRejectedType, type StandDownResult } from './messages';
import type { IncidentState } from './state';
import { nowIso, record } from './timeline';

/** Validator of the `standDown` Update: rejects input that does not parse, such as an empty reason. */
export function validateStandDownInput(input: unknown): void {
  const parsed = standDownInputSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`);
    throw new Error(`invalid stand-down: ${issues.join('; ')}`);
  }
}

/** Returns the policy of a gate at the current severity, with the group members Slack listed while it is open. */
function gateAuthority(state: IncidentState, gate: GateName) {
  const open = state.openGate?.gate === gate && state.openGate.purpose === 'decision' ? state.openGate : undefined;
  if (open !== undefined) return { policy: open.policy, groupMembers: open.groupMembers };
  if (state.playbook === undefined || state.severity === undefined) return undefined;
  return { policy: gatePolicyFor(state.playbook, gate, state.severity), groupMembers: undefined };
}

function liftSubject(state: IncidentState): string {
  return `lifting containment (the restore gate at ${state.severity ?? 'the current severity'})`;
}

function liftProblem(state: IncidentState, policy: GatePolicy, members: string[] | undefined, input: StandDownInput) {
  const subject = liftSubject(state);
  const problem = approverProblem(state, policy, members, subject, input.by);
  if (problem !== undefined || !policy.twoPerson) return problem;
  return secondApprovalProblem(state.liftRequest?.approvals ?? [], input.by, input.channel, subject);
}

/** Returns why `by` may not stand down without lifting, or undefined when some gate at this severity allows them. */
function standDownApproverProblem(state: IncidentState, by: string): string | undefined {
  const refusals: string[] = [];
  for (const gate of gateNameSchema.options) {
    const authority = gateAuthority(state, gate);
    if (authority === undefined || !isListed(authority.policy, by, authority.groupMembers)) continue;
    const problem = approverProblem(state, authority.policy, authority.groupMembers, `gate ${gate}`, by);
    if (problem === undefined) return undefined;
    refusals.push(problem);
  }
  const severity = state.severity ?? 'the current severity';
  return refusals[0] ?? `${by} is not an approver of any gate at ${severity}, so may not stand the incident down`;
}

function standDownProblem(state: IncidentState, input: StandDownInput): string | undefined {
  if (state.phase === 'closed') {
    return `incident ${state.incidentId} is closed, so it cannot be stood down`;
  }
  if (state.standDown !== undefined) {
    return `incident ${state.incidentId} is already standing down: requested by ${state.standDown.by} at ${state.standDown.at}`;
  }
  const restore = gateAuthority(state, 'restore');
  if (restore === undefined) {
    return `incident ${state.incidentId} has no playbook yet, so it has no approvers; retry once triage has pinned one`;
  }
  if (input.liftContainment) return liftProblem(state, restore.policy, restore.groupMembers, input);
  return standDownApproverProblem(state, input.by);
}

/** Earlier requests to lift containment that the restore gate still allows, with the new one last. */
function liftApprovals(state: IncidentState, approval: GateApproval): GateApproval[] {
  const restore = gateAuthority(state, 'restore');
  const earlier = (state.liftRequest?.approvals ?? []).filter(
    (candidate) =>
      restore !== undefined &&
      approverProblem(state, restore.policy, restore.groupMembers, 'the restore gate', candidate.decider) === undefined,
  );
  return [...earlier, approval];
}

function pending(state: IncidentState, input: StandDownInput, approvals: GateApproval[]): StandDownResult {
  state.liftRequest = { reason: state.liftRequest?.reason ?? input.reason, approvals };
  record(
    state,
    'decision',
    `${input.by} asked via ${input.channel} to stand down and lift containment: ${input.reason} (waiting for a second approver)`,
    { by: input.by, channel: input.channel, liftContainment: true },
  );
  const names = approvals.map((approval) => approval.decider);
  return {
    status: 'pending',
    by: input.by,
    at: nowIso(),
    liftContainment: true,
    approvals: names,
    requiredApprovals: 2,
  };
}

/**
 * Handler of the `standDown` Update. A rejected attempt is recorded on the timeline and fails the Update
 * with type `StandDownRejected`. An accepted stand-down is applied by the workflow at its next step.
 */
export function requestStandDown(state: IncidentState, rawInput: StandDownInput): StandDownResult {
  const input = standDownInputSchema.parse(rawInput);
  const attempt = { by: input.by, channel: input.channel, liftContainment: input.liftContainment };
  const problem = standDownProblem(state, input);
  if (problem !== undefined) {
    recordRejection(state, `rejected stand-down by ${input.by} via ${input.channel}: ${problem}`, attempt);
    throw ApplicationFailure.nonRetryable(problem, standDownRejectedType, attempt);
  }

  const at = nowIso();
  const approval = { decider: input.by, channel: input.channel, at };
  const twoPerson = input.liftContainment && gateAuthority(state, 'restore')?.policy.twoPerson === true;
  const approvals = input.liftContainment ? liftApprovals(state, approval) : [approval];
  if (twoPerson && approvals.length < 2) return pending(state, input, approvals);

  const reason = input.liftContainment ? (state.liftRequest?.reason ?? input.reason) : input.reason;
  if (!input.liftContainment && state.liftRequest !== undefined) {
    record(state, 'note', 'the pending request to lift containment is dropped: the stand-down keeps containment');
  }
  state.liftRequest = undefined;
  state.standDown = {
    reason,
    liftContainment: input.liftContainment,
    by: input.by,
    channel: input.channel,
    at,
    approvals,
  };
  record(state, 'decision', `stand-down requested by ${input.by} via ${input.channel}: ${reason}`, {
    liftContainment: input.liftContainment,
    approvals: approvals.map((candidate) => `${candidate.decider} via ${candidate.channel}`),
  });
  const names = approvals.map((candidate) => candidate.decider);
  const requiredApprovals = twoPerson ? 2 : 1;
  return {
    status: 'accepted',
    by: input.by,
    at,
    liftContainment: input.liftContainment,
    approvals: names,
    requiredApprovals,
  };
}
