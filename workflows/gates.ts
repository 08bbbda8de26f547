import { condition } from '@temporalio/workflow';
import { parseDurationMs } from '../domain/duration';
import type { Severity } from '../domain/alert';
import type { GateName } from '../domain/incident';
import { gatePolicyFor, type GatePolicy } from '../domain/playbook';
import type { GateResult } from '../domain/response';
import { isListed } from './approvers';
import { postGateClosed, postGateEscalation, postGateOpened, postGateReminder, resolveApproverGroups } from './notify';
import { publishIncident } from './search-attributes';
import type { GatePurpose, IncidentState, OpenGate } from './state';
import { addMs, hasPassed, msUntil, nowIso, record } from './timeline';

/** Options of one gate step. */
export interface GateOptions {
  /** Ask a person even when the playbook sets `auto` or `skip`, for this reason (for example an unresolved target). */
  forceAsk?: string;
  /** `retry-containment` asks whether to retry failed containment steps; it leaves the gate's decision as it was. */
  purpose?: GatePurpose;
  /** Checked at every wake-up; throws a continue-as-new when history has grown too long. */
  checkpoint: () => Promise<void>;
  shouldContinue: () => boolean;
}

function currentPolicy(state: IncidentState, gate: GateName): GatePolicy {
  if (state.playbook === undefined || state.severity === undefined) {
    throw new Error(`gate ${gate} reached before a playbook was pinned`);
  }
  return gatePolicyFor(state.playbook, gate, state.severity);
}

const severities: readonly Severity[] = ['P0', 'P1', 'P2', 'P3'];
const gateNames: readonly GateName[] = ['isolate', 'escalate', 'restore'];
const forcedAskDeadlineMs = 3_600_000;

/**
 * The policy of a gate that must ask although the playbook sets `auto` or `skip` at this severity. It takes
 * the approvers and deadline of the first asking policy among this gate's policies (P0 to P3), then the
 * other gates' policies at the current severity; when nothing asks, nobody may decide and the deadline is
 * one hour. It always rejects on timeout, so nothing acts without a person.
 */
function forcedAskPolicy(state: IncidentState, gate: GateName, policy: GatePolicy): GatePolicy {
  if (policy.mode === 'ask') {
    return { ...policy, onTimeout: 'reject' };
  }
  const { playbook, severity } = state;
  const sameGate = severities.map((candidate) => (playbook ? gatePolicyFor(playbook, gate, candidate) : undefined));
  const otherGates = gateNames
    .filter((candidate) => candidate !== gate)
    .map((candidate) => (playbook && severity ? gatePolicyFor(playbook, candidate, severity) : undefined));
  const asking = [...sameGate, ...otherGates].find((candidate) => candidate?.mode === 'ask');
  const fallback = { approvers: [], approverGroups: [], deadline: '1h', deadlineMs: forcedAskDeadlineMs };
  return { ...policy, ...(asking ?? fallback), mode: 'ask', onTimeout: 'reject' };
}

function openGate(state: IncidentState, gate: GateName, policy: GatePolicy, options: GateOptions): OpenGate {
  const openedAt = nowIso();
  const deadlineMs = policy.deadlineMs;
  const reminderBeforeMs = policy.reminderBefore ? parseDurationMs(policy.reminderBefore) : Math.floor(deadlineMs / 2);
  const open: OpenGate = {
    gate,
    purpose: options.purpose ?? 'decision',
    ...(options.forceAsk === undefined ? {} : { askReason: options.forceAsk }),
    policy,
    severity: state.severity ?? 'P3',
    openedAt,
    deadlineAt: addMs(openedAt, deadlineMs),
    reminderAt: addMs(openedAt, Math.max(0, deadlineMs - reminderBeforeMs)),
    reminderSent: false,
    approvals: [],
    slackPostStarted: false,
  };
  state.openGate = open;
  record(state, 'note', `gate ${gate} opened: waiting for a decision until ${open.deadlineAt}`, {
    approvers: policy.approvers,
    onTimeout: policy.onTimeout,
    twoPerson: policy.twoPerson,
  });
  publishIncident(state);
  postGateOpened(state, open);
  resolveApproverGroups(state, open);
  return open;
}

/** Stores the result, closes the gate, and updates the Slack message. */
function closeGate(state: IncidentState, result: GateResult, purpose: GatePurpose = 'decision'): GateResult {
  state.gates.push(result);
  if (result.decision !== undefined && purpose === 'decision') {
    state.decisions[result.gate] = result.decision;
  }
  state.openGate = undefined;
  const who = result.decider ? ` by ${result.decider}` : '';
  record(state, 'decision', `gate ${result.gate}: ${result.status}${who}, so ${result.decision ?? 'no action'}`, {
    ...result,
  });
  publishIncident(state);
  postGateClosed(state, result);
  return result;
}

function timedOut(state: IncidentState, open: OpenGate): GateResult {
  postGateEscalation(state, open);
  const decision = open.policy.onTimeout;
  const reason = `no decision before ${open.deadlineAt}; the playbook default applies`;
  const result: GateResult = {
    gate: open.gate,
    status: 'timed_out',
    decision,
    defaultApplied: decision,
    at: nowIso(),
    reason,
  };
  return closeGate(state, result, open.purpose);
}

/** Drops approvals from people whom the new policy does not list, so a changed approver list is never bypassed. */
function dropUnlistedApprovals(state: IncidentState, open: OpenGate, policy: GatePolicy): void {
  const kept = open.approvals.filter((approval) => isListed(policy, approval.decider, open.groupMembers));
  const dropped = open.approvals.filter((approval) => !kept.includes(approval)).map((approval) => approval.decider);
  if (dropped.length === 0) return;
  open.approvals = kept;
  if (kept.length === 0) open.imageDigest = undefined;
  record(
    state,
    'note',
    `gate ${open.gate} no longer counts the approval of ${dropped.join(', ')}: not on the ${open.severity} approver list`,
  );
}

/**
 * Applies a higher severity's policy to the open gate. `auto` approves at once. `skip` closes the gate without
 * acting, because the playbook chose not to act at that severity, and records that choice. `ask` brings new
 * approvers and the earlier of the two deadlines. A gate that must ask a person keeps asking.
 */
function applySeverityChange(
  state: IncidentState,
  open: OpenGate,
  forceAsk: string | undefined,
): GateResult | undefined {
  const policy = currentPolicy(state, open.gate);
  const from = open.severity;
  open.severity = state.severity ?? open.severity;
  if (forceAsk !== undefined) return undefined;
  if (policy.mode === 'auto') {
    const reason = `severity rose to ${open.severity}, where the playbook acts without asking`;
    return closeGate(state, { gate: open.gate, status: 'auto', decision: 'approve', at: nowIso(), reason });
  }
  if (policy.mode === 'skip') {
    const reason = `severity rose from ${from} to ${open.severity}, where the playbook skips gate ${open.gate}, so it does not act`;
    record(state, 'note', `gate ${open.gate} skipped: ${reason}`, { from, to: open.severity });
    return closeGate(state, { gate: open.gate, status: 'skipped', decision: 'reject', at: nowIso(), reason });
  }
  const deadlineAt = addMs(open.openedAt, policy.deadlineMs);
  if (policy.approverGroups.join() !== open.policy.approverGroups.join()) open.groupMembers = undefined;
  open.policy = policy;
  dropUnlistedApprovals(state, open, policy);
  resolveApproverGroups(state, open);
  open.deadlineAt = deadlineAt < open.deadlineAt ? deadlineAt : open.deadlineAt;
  record(state, 'note', `gate ${open.gate} now follows the ${open.severity} policy`, { deadlineAt: open.deadlineAt });
  return undefined;
}

function nextWake(open: OpenGate): string {
  return open.reminderSent ? open.deadlineAt : open.reminderAt;
}

async function waitForDecision(state: IncidentState, open: OpenGate, options: GateOptions): Promise<GateResult> {
  let fired: string | undefined;
  for (;;) {
    // A stand-down accepted in the same workflow task as a decision wins, so no containment follows it.
    if (state.standDown) {
      const reason = 'the incident was stood down';
      return closeGate(state, { gate: open.gate, status: 'skipped', at: nowIso(), reason }, open.purpose);
    }
    if (open.decided) {
      return closeGate(state, open.decided, open.purpose);
    }
    if (open.severity !== state.severity) {
      const changed = applySeverityChange(state, open, open.askReason);
      if (changed) return changed;
    }
    if (hasPassed(open.deadlineAt, fired)) {
      return timedOut(state, open);
    }
    if (!open.reminderSent && hasPassed(open.reminderAt, fired)) {
      open.reminderSent = true;
      postGateReminder(state, open);
    }
    await options.checkpoint();

    const severity = state.severity;
    const wakeAt = nextWake(open);
    const woken = await condition(
      () =>
        open.decided !== undefined ||
        state.standDown !== undefined ||
        state.severity !== severity ||
        options.shouldContinue(),
      Math.max(1, msUntil(wakeAt)),
    );
    fired = woken ? undefined : wakeAt;
  }
}

/**
 * Runs one decision gate and returns how it ended, never a bare boolean. `auto` approves and `skip`
 * rejects without asking; `ask` waits for a `decideGate` Update until the deadline, sends a reminder
 * before it and an escalation mention when it passes, then applies the playbook default. A gate left
 * open by a previous run (continue-as-new) resumes its wait with the same deadline.
 */
export async function runGate(state: IncidentState, gate: GateName, options: GateOptions): Promise<GateResult> {
  const resumed = state.openGate?.gate === gate ? state.openGate : undefined;
  if (resumed) {
    // NOTE: a gate message whose post was still retrying when the previous run continued as new is
    // posted again here, so Slack may show it twice.
    if (state.slackMessages[gate] === undefined) postGateOpened(state, resumed);
    resolveApproverGroups(state, resumed);
    return waitForDecision(state, resumed, options);
  }

  const policy = currentPolicy(state, gate);
  if (options.forceAsk === undefined && policy.mode === 'auto') {
    return closeGate(state, {
      gate,
      status: 'auto',
      decision: 'approve',
      at: nowIso(),
      reason: 'the playbook acts without asking',
    });
  }
  if (options.forceAsk === undefined && policy.mode === 'skip') {
    return closeGate(state, {
      gate,
      status: 'skipped',
      decision: 'reject',
      at: nowIso(),
      reason: 'the playbook skips this gate',
    });
  }
  if (options.forceAsk !== undefined) {
    record(state, 'note', `gate ${gate} asks a person: ${options.forceAsk}`);
    return waitForDecision(state, openGate(state, gate, forcedAskPolicy(state, gate, policy), options), options);
  }
  return waitForDecision(state, openGate(state, gate, policy, options), options);
}
