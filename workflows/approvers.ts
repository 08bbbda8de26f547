import type { DecisionChannel } from '../domain/incident';
import type { GatePolicy } from '../domain/playbook';
import type { GateApproval } from '../domain/response';
import type { IncidentState } from './state';

/**
 * Checks of who may decide what. One set of checks serves gate decisions and stand-downs, so every channel (the
 * Slack app, the CLI, any Temporal client) meets the same rules.
 */

/** True when the policy names the decider, directly or through an approver group that Slack has listed. */
export function isListed(policy: GatePolicy, decider: string, groupMembers: readonly string[] | undefined): boolean {
  return policy.approvers.includes(decider) || (groupMembers ?? []).includes(decider);
}

/**
 * Returns why `decider` may not act under `policy`, or undefined: an empty approver list means nobody, a
 * decider must be on the list, and a playbook that forbids the triggerer rejects every user that alerts
 * named. The triggerer check compares the decider id with the alerts' user names as text.
 */
export function approverProblem(
  state: IncidentState,
  policy: GatePolicy,
  groupMembers: readonly string[] | undefined,
  subject: string,
  decider: string,
): string | undefined {
  if (policy.approvers.length === 0 && policy.approverGroups.length === 0) {
    return `${subject} has no approvers in the playbook, so nobody may decide it`;
  }
  if (!isListed(policy, decider, groupMembers)) {
    const pending = policy.approverGroups.length > 0 && groupMembers === undefined;
    const groups = pending ? ' (its approver groups are not listed yet because Slack has not answered)' : '';
    return `${decider} is not on the approver list of ${subject}${groups}`;
  }
  if (policy.forbidTriggerer && state.alerts.triggerers.includes(decider)) {
    return `${decider} triggered this incident and may not decide ${subject}`;
  }
  // NOTE: once `triggerersIncomplete` is set, a user first named after the bounded list filled up is not
  // rejected. Rejecting everybody instead would let whoever can raise alerts force the deadline default.
  return undefined;
}

/**
 * Returns why an approval may not count toward a two-person approval, or undefined. The approvers must be
 * different people, and they may not both come through the CLI, whose identity is asserted by whoever can
 * send Updates to the Temporal namespace rather than verified.
 */
export function secondApprovalProblem(
  approvals: readonly GateApproval[],
  decider: string,
  channel: DecisionChannel,
  subject: string,
): string | undefined {
  if (approvals.some((approval) => approval.decider === decider)) {
    return `${decider} already approved ${subject}; a second, different approver is needed`;
  }
  if (channel === 'cli' && approvals.length > 0 && approvals.every((approval) => approval.channel === 'cli')) {
    return (
      `${subject} needs two people, and both approvals may not come through the CLI, whose identity is not ` +
      'verified: the second approver must decide in Slack'
    );
  }
  return undefined;
}
