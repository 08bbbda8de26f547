import type { Alert, Severity } from '../../domain/alert';
import { responseTargetMs } from '../../domain/clocks';
import { formatDurationMs } from '../../domain/duration';
import { containmentPhase, type ContainmentStep, type GatePolicy, type Playbook } from '../../domain/playbook';
import {
  classifySeverity,
  selectPlaybook,
  stepApplies,
  type MatchContext,
  type PlaybookSelection,
} from '../../domain/playbook-match';
import { printable } from './terminal-text';

/** The dry-run plan of `firebreak playbooks test`: what Firebreak would do for one alert, step by step. */

export interface PlanStep {
  phase: 'detect' | 'isolate' | 'eradicate' | 'recover';
  text: string;
}

export interface ResponsePlan {
  alert: { rule: string; source: string; priority: string; status: string; target: string };
  playbook: { name: string; version: number; usedDefault: boolean };
  selectionReason: string;
  severity: Severity;
  severityReason: string;
  responseTarget: string;
  steps: PlanStep[];
  notes: string[];
  notify?: string;
}

/** Builds the plan for one alert against a set of playbooks. */
export function planResponse(alert: Alert, playbooks: readonly Playbook[], context: MatchContext = {}): ResponsePlan {
  const selection = selectPlaybook(alert, playbooks, context);
  return planForSelection(alert, selection, context);
}

/** Builds the plan for one alert and the playbook selected for it. */
export function planForSelection(alert: Alert, selection: PlaybookSelection, context: MatchContext = {}): ResponsePlan {
  const { playbook } = selection;
  const { severity, reason } = classifySeverity(alert, playbook, context);
  const targetMs = responseTargetMs[severity];

  return {
    alert: {
      rule: alert.rule,
      source: alert.source,
      priority: alert.priority,
      status: alert.status,
      target: describeTarget(alert),
    },
    playbook: { name: playbook.metadata.name, version: playbook.metadata.version, usedDefault: selection.usedDefault },
    selectionReason: selection.reason,
    severity,
    severityReason: reason,
    responseTarget: targetMs === 0 ? 'immediately' : `within ${formatDurationMs(targetMs)}`,
    steps: planSteps(playbook, severity, alert.status === 'resolved'),
    notes: planNotes(alert, playbook),
    notify: playbook.notify.slackChannel,
  };
}

function describeTarget(alert: Alert): string {
  const { namespace, pod, node, workload } = alert.target;
  const onNode = node === undefined ? '' : ` on node ${node}`;
  if (alert.hostScoped) {
    return `node ${node ?? 'unknown'} (host event, no workload)`;
  }
  if (pod !== undefined) {
    return `pod ${namespace ?? '?'}/${pod}${onNode}`;
  }
  if (workload !== undefined) {
    return `${workload} in namespace ${namespace ?? '?'}${onNode}`;
  }
  return namespace === undefined ? `unknown${onNode}` : `namespace ${namespace}${onNode}`;
}

function planSteps(playbook: Playbook, severity: Severity, resolved: boolean): PlanStep[] {
  const steps: PlanStep[] = [];
  const isolateGate = playbook.gates.isolate[severity];
  steps.push({ phase: 'detect', text: `isolate gate: ${describeGate(isolateGate)}` });

  const applying = playbook.containment.filter((step) => stepApplies(step, severity));
  const containment = isolateGate.mode === 'skip' || resolved ? [] : applying;
  if (resolved) {
    steps.push({ phase: 'isolate', text: 'no containment: the alert is resolved' });
  } else if (isolateGate.mode === 'skip') {
    steps.push({ phase: 'isolate', text: `no containment: the isolate gate is skip at ${severity}` });
  }
  for (const step of containment.filter((candidate) => containmentPhase(candidate.action) === 'isolate')) {
    steps.push({ phase: 'isolate', text: describeStep(step) });
  }
  steps.push({ phase: 'isolate', text: `collect evidence: ${playbook.evidence.join(', ') || 'none'}` });
  steps.push({
    phase: 'isolate',
    text: `escalate gate: ${describeGate(playbook.gates.escalate[severity])}${pageText(playbook, severity)}`,
  });

  for (const step of containment.filter((candidate) => containmentPhase(candidate.action) === 'eradicate')) {
    steps.push({ phase: 'eradicate', text: describeStep(step) });
  }
  for (const step of playbook.containment.filter((candidate) => !stepApplies(candidate, severity))) {
    steps.push({
      phase: 'eradicate',
      text: `not at ${severity}: ${step.action} (only at ${step.severityAtLeast} or worse)`,
    });
  }

  const { restore } = playbook;
  const restoreGate = describeGate(playbook.gates.restore[severity]);
  steps.push({
    phase: 'recover',
    text: `restore gate after ${restore.quietPeriod} without new alerts: ${restoreGate}`,
  });
  const digestSource =
    restore.trustedDigestSource === 'playbook'
      ? 'a trusted digest from the playbook'
      : 'a digest that the approver gives';
  steps.push({
    phase: 'recover',
    text: `restore the workload on ${digestSource}, undo containment in reverse order, watch for ${restore.watchPeriod}`,
  });
  return steps;
}

function pageText(playbook: Playbook, severity: Severity): string {
  const escalation = playbook.escalation;
  if (escalation === undefined || playbook.gates.escalate[severity].mode === 'skip') {
    return '';
  }
  return `; when approved, page PagerDuty at ${escalation.url} with the routing key from $${escalation.routingKeyEnv}`;
}

/** Describes a gate policy in one line, for example `ask members of S0SECURITY within 30m; on timeout reject`. */
export function describeGate(policy: GatePolicy): string {
  if (policy.mode === 'auto') return 'automatic, no one is asked';
  if (policy.mode === 'skip') return 'skipped';

  const people = [...policy.approvers, ...policy.approverGroups.map((group) => `members of ${group}`)];
  const who = people.length === 0 ? 'nobody may approve, so the timeout decision applies' : `ask ${people.join(', ')}`;
  const parts = [`${who} within ${policy.deadline}`, `on timeout ${policy.onTimeout}`];
  if (policy.reminderBefore !== undefined) parts.push(`reminder ${policy.reminderBefore} before the deadline`);
  if (policy.twoPerson) parts.push('two different approvers');
  if (policy.forbidTriggerer) parts.push('not by the person who triggered it');
  return parts.join('; ');
}

function describeStep(step: ContainmentStep): string {
  switch (step.action) {
    case 'quarantine':
      return step.allowEgress.length === 0
        ? 'quarantine the pod: label it and deny all ingress and egress'
        : `quarantine the pod: label it and deny all traffic except egress to ${describeEgress(step.allowEgress)}`;
    case 'detach':
      return 'detach the pod from its Services and owner, so a clean replica replaces it';
    case 'cordon':
      return 'cordon the node';
    case 'drain':
      return `drain the node (grace period ${step.gracePeriod}, deadline ${step.deadline})`;
    case 'delete-pod':
      return `delete the pod${step.gracePeriod === undefined ? '' : ` (grace period ${step.gracePeriod})`}`;
    case 'scale-to-zero':
      return 'scale the owner workload to zero replicas';
    case 'pause-rollout':
      return 'pause rollouts of the owner workload';
  }
}

function describeEgress(rules: Extract<ContainmentStep, { action: 'quarantine' }>['allowEgress']): string {
  return rules
    .map((rule) => {
      if (rule.dns !== undefined) return 'DNS';
      const ports = rule.ports === undefined ? 'all ports' : `ports ${rule.ports.join(', ')}`;
      const destination = rule.cidr ?? `namespaces ${JSON.stringify(rule.namespaceSelector)}`;
      return `${destination} (${ports})`;
    })
    .join(', ');
}

function planNotes(alert: Alert, playbook: Playbook): string[] {
  const notes: string[] = [];
  if (alert.status === 'resolved') {
    notes.push('the alert is resolved: Firebreak records it on the incident and starts no containment');
  }
  if (!alert.priorityRecognised) {
    notes.push('the sender priority was not recognised, so no priority condition holds');
  }
  if (playbook.dryRun) {
    notes.push('the playbook sets dryRun: every step is planned and recorded, and nothing is changed');
  }
  return notes;
}

/**
 * Renders a plan as text for a terminal or a CI log. Each line is escaped on its own, so a line break or a
 * terminal control sequence in alert text shows as `\u000a` or `\u001b` instead of acting.
 */
export function renderPlan(plan: ResponsePlan, file?: string): string {
  const { alert, playbook } = plan;
  const lines = [
    `Alert     ${alert.rule} (${alert.source}, priority ${alert.priority}, ${alert.status})`,
    `Target    ${alert.target}`,
    `Playbook  ${playbook.name} v${playbook.version}${file === undefined ? '' : ` (${file})`}`,
    `          ${plan.selectionReason}`,
    `Severity  ${plan.severity}, respond ${plan.responseTarget}: ${plan.severityReason}`,
    '',
    'Dry-run plan (nothing was changed):',
  ];

  let previousPhase = '';
  for (const [index, step] of plan.steps.entries()) {
    const phase = step.phase === previousPhase ? '' : step.phase;
    previousPhase = step.phase;
    lines.push(`  ${phase.padEnd(10)} ${index + 1}. ${step.text}`);
  }
  for (const note of plan.notes) {
    lines.push(`Note      ${note}`);
  }
  if (plan.notify !== undefined) {
    lines.push(`Notify    ${plan.notify}`);
  }
  return lines.map(printable).join('\n');
}
