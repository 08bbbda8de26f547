import { condition, workflowInfo } from '@temporalio/workflow';
import type { GateName } from '../domain/incident';
import type { EscalateIncidentInput, GateResult } from '../domain/response';
import { escalation, slack } from './activities';
import { cutToBytes } from './bounds';
import type { IncidentState, OpenGate } from './state';
import { errorMessage, record } from './timeline';

/** Notifications started and not yet finished in this run. Workflow globals are per execution. */
let pendingCount = 0;

/**
 * Runs a notification without blocking the incident on it: gates and phases go on while Slack or the
 * paging service retries. A final failure is recorded on the timeline.
 */
export function inBackground<T>(
  state: IncidentState,
  description: string,
  call: () => Promise<T>,
  then?: (value: T) => void,
  always?: () => void,
): void {
  pendingCount += 1;
  const run = async (): Promise<void> => {
    try {
      const value = await call();
      then?.(value);
    } catch (error) {
      record(state, 'error', `${description} failed`, { error: errorMessage(error) });
    } finally {
      pendingCount -= 1;
      always?.();
    }
  };
  void run();
}

/**
 * Waits up to `timeoutMs` for background notifications to finish, so the last edits and pages go out before
 * close. With `state`, each page still unfinished then is recorded on the timeline, so the report shows it.
 */
export async function settleNotifications(timeoutMs: number, state?: IncidentState): Promise<void> {
  const settled = await condition(() => pendingCount === 0, timeoutMs);
  if (settled || state === undefined) return;
  for (const input of state.pendingPages) {
    record(state, 'error', `page "${input.summary}" was still being sent when the incident closed`, {
      dedupKey: input.dedupKey,
    });
  }
}

function runUrl(state: IncidentState): string {
  const info = workflowInfo();
  const base = state.uiBaseUrl ?? 'http://localhost:8233';
  return `${base}/namespaces/${info.namespace}/workflows/${encodeURIComponent(info.workflowId)}`;
}

function targetSummary(state: IncidentState): string {
  const target = state.target;
  if (target === undefined) {
    return `unresolved: ${state.targetUnresolvedReason ?? 'unknown'}`;
  }
  const workload = target.workload ? ` (${target.workload.kind}/${target.workload.name})` : '';
  return `${target.namespace}/${target.pod}${workload} on ${target.node ?? 'unknown node'}`;
}

const effects: Record<GateName, { approve: string; reject: string }> = {
  isolate: { approve: 'quarantine the pod now', reject: 'leave the pod running and keep watching' },
  escalate: { approve: 'page the external responders', reject: 'handle the incident in-house' },
  restore: { approve: 'roll out the trusted image, then lift containment', reject: 'keep containment in place' },
};

/** Returns what each choice does at this gate; the restore gate names only the containment steps in place. */
function gateEffects(state: IncidentState, open: OpenGate): { approve: string; reject: string } {
  if (open.purpose === 'retry-containment') {
    return { approve: 'retry the failed containment steps', reject: 'go on without them' };
  }
  if (open.gate !== 'restore') return effects[open.gate];
  const inPlace = [...new Set(state.inverses.map((inverse) => state.containment[inverse.containmentIndex]?.step))];
  const lift =
    inPlace.length === 0
      ? 'no containment step is in place to lift'
      : `then undo ${inPlace.filter((step) => step !== undefined).join(', ')}`;
  return { approve: `roll out the trusted image, ${lift}`, reject: effects.restore.reject };
}

/** Posts the gate message to the playbook's Slack channel, when it has one. */
export function postGateOpened(state: IncidentState, open: OpenGate): void {
  const channel = state.playbook?.notify.slackChannel;
  if (channel === undefined || state.severity === undefined) {
    return;
  }
  open.slackPostStarted = true;
  const sample = state.alerts.samples[0];
  const choice = gateEffects(state, open);
  const asks = open.askReason === undefined ? '' : `; asks a person because ${open.askReason}`;
  const input = {
    incidentId: state.incidentId,
    runUrl: runUrl(state),
    gate: open.gate,
    severity: state.severity,
    targetSummary: targetSummary(state),
    triggerSummary: cutToBytes(`${sample?.rule ?? 'alert'} (${state.alerts.count} alerts)${asks}`, 2000),
    choices: [
      { decision: 'approve' as const, effect: choice.approve },
      { decision: 'reject' as const, effect: choice.reject },
    ],
    deadlineAt: open.deadlineAt,
    onTimeout: open.policy.onTimeout,
    channel,
  };
  inBackground(
    state,
    `posting the ${open.gate} gate message`,
    () => slack.postGateMessage(input),
    (ref) => {
      state.slackMessages[open.gate] = ref;
      const result = state.gates.findLast((gate) => gate.gate === open.gate);
      if (result) {
        postGateClosed(state, result);
      }
    },
  );
}

/** Edits the gate message to show the result; does nothing until the message exists. */
export function postGateClosed(state: IncidentState, result: GateResult): void {
  const ref = state.slackMessages[result.gate];
  if (ref === undefined) {
    return;
  }
  const input = {
    ...ref,
    incidentId: state.incidentId,
    gate: result.gate,
    status: result.status,
    decision: result.decision,
    decider: result.decider,
    at: result.at,
    reason: result.reason,
  };
  inBackground(state, `updating the ${result.gate} gate message`, () => slack.updateGateMessage(input));
}

/** Posts the reminder before the deadline; recorded on the timeline either way. */
export function postGateReminder(state: IncidentState, open: OpenGate): void {
  const ref = state.slackMessages[open.gate];
  record(state, 'note', `reminder: gate ${open.gate} waits for a decision until ${open.deadlineAt}`);
  if (ref !== undefined) {
    const input = {
      ...ref,
      incidentId: state.incidentId,
      gate: open.gate,
      deadlineAt: open.deadlineAt,
      mention: open.policy.mention,
    };
    inBackground(state, `posting the ${open.gate} gate reminder`, () => slack.postGateReminder(input));
  }
}

/** Posts the escalation mention when a gate deadline passes. */
export function postGateEscalation(state: IncidentState, open: OpenGate): void {
  const ref = state.slackMessages[open.gate];
  if (ref !== undefined) {
    const input = { ...ref, incidentId: state.incidentId, gate: open.gate, mention: open.policy.mention };
    inBackground(state, `posting the ${open.gate} gate escalation`, () => slack.postGateEscalation(input));
  }
}

function sendPage(state: IncidentState, input: EscalateIncidentInput): void {
  inBackground(
    state,
    `paging for "${input.summary}"`,
    () => escalation.escalateIncident(input),
    (result) => {
      record(state, 'step', `paged the escalation target: ${input.summary}`, {
        dedupKey: result.dedupKey,
        status: result.status,
      });
    },
    () => {
      state.pendingPages = state.pendingPages.filter((pending) => pending !== input);
    },
  );
}

/**
 * Pages through the playbook's escalation target; without one, records that nobody could be paged. The
 * page stays in `pendingPages` until it succeeds or fails for good, so a run that continues as new while
 * the paging service is down sends it again.
 */
export function page(
  state: IncidentState,
  dedupSuffix: string,
  summary: string,
  details?: Record<string, string>,
): void {
  const escalationPolicy = state.playbook?.escalation;
  if (escalationPolicy === undefined || state.severity === undefined) {
    record(state, 'error', `cannot page for "${summary}": the playbook has no escalation target`);
    return;
  }
  const input: EscalateIncidentInput = {
    incidentId: state.incidentId,
    target: { url: escalationPolicy.url, routingKeyEnv: escalationPolicy.routingKeyEnv },
    summary: cutToBytes(summary, 1000),
    severity: state.severity,
    source: 'firebreak',
    dedupKey: `${state.incidentId}-${dedupSuffix}`,
    ...(details === undefined ? {} : { details }),
  };
  startPage(state, input);
}

/**
 * Sends a page without blocking the incident: the result is recorded on the timeline when the activity
 * ends. The page stays in `pendingPages` until then, so a continued run sends it again, and the close
 * waits a bounded time for it.
 */
export function startPage(state: IncidentState, input: EscalateIncidentInput): void {
  state.pendingPages.push(input);
  sendPage(state, input);
}

/** Sends again the pages that an earlier run started and did not finish. */
export function resumePages(state: IncidentState): void {
  for (const input of state.pendingPages) {
    record(state, 'note', `paging again after continue-as-new: ${input.summary}`);
    sendPage(state, input);
  }
}

/**
 * Lists the members of the gate's approver groups in the background. Until Slack responds, only people
 * named in `approvers` may decide, so a Slack outage never blocks the CLI for listed approvers.
 */
export function resolveApproverGroups(state: IncidentState, open: OpenGate): void {
  const groups = open.policy.approverGroups;
  if (groups.length === 0 || open.groupMembers !== undefined) {
    return;
  }
  inBackground(
    state,
    `listing the approver groups of gate ${open.gate}`,
    () => slack.resolveApproverGroups({ approvers: groups }),
    (resolved) => {
      if (state.openGate === open) {
        open.groupMembers = resolved.approvers;
        record(state, 'note', `gate ${open.gate} approver groups list ${resolved.approvers.length} people`, {
          groups: groups,
        });
      }
    },
  );
}
