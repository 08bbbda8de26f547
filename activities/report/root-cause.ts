import type { IncidentRecord } from '../../domain/response';
import type { HardeningFinding } from './hardening';
import type { AttackChainStage } from './timeline';

/** One of the five whys: the question, and an answer where the incident's data gives one. */
export interface WhyAnswer {
  why: number;
  prompt: string;
  /** Absent when the recorded data does not settle the question, so the reviewer fills it in. */
  answer?: string;
}

export interface RootCauseInput {
  record: IncidentRecord;
  chain: AttackChainStage[];
  findings: HardeningFinding[] | undefined;
}

/** Five-whys prompts for the review, each answered from the record, the attack chain and the pod spec where possible. */
export function fiveWhys({ record, chain, findings }: RootCauseInput): WhyAnswer[] {
  const firstAlert = record.timeline.find((entry) => entry.kind === 'alert');
  const target = record.target ? `${record.target.namespace}/${record.target.pod}` : 'an unresolved target';
  const entry = chain.find((stage) => stage.stage === 'initial access');
  const weak = (findings ?? []).filter((finding) => finding.severity === 'high');
  const missed = record.clocks.filter((clock) => clock.missedAt);

  return [
    {
      why: 1,
      prompt: 'Why did the alert fire?',
      answer: record.rules.length > 0 ? alertAnswer(record, target, firstAlert) : undefined,
    },
    {
      why: 2,
      prompt: 'Why could the attacker act in the workload (which stages were reached)?',
      answer: chain.length > 0 ? `Alerts map to ${chain.map((stage) => stage.stage).join(', ')}.` : undefined,
    },
    {
      why: 3,
      prompt: 'Why was the workload reachable (how did the attacker get in)?',
      answer: entry ? `Initial access is indicated by ${entry.evidence.join(', ')}.` : undefined,
    },
    {
      why: 4,
      prompt: 'Why did the pod configuration not prevent it?',
      answer: weak.length > 0 ? `The pod spec allowed: ${weak.map(describeFinding).join('; ')}.` : undefined,
    },
    {
      why: 5,
      prompt: 'Why did detection and response take as long as they did?',
      answer: record.clocks.length > 0 ? clockAnswer(record, missed.length) : undefined,
    },
  ];
}

function alertAnswer(
  record: IncidentRecord,
  target: string,
  firstAlert: { at: string; summary: string } | undefined,
): string {
  const rules = `${record.rules.length === 1 ? 'Rule' : 'Rules'} ${record.rules.join(', ')}`;
  const first = firstAlert ? `, first at ${firstAlert.at}: ${firstAlert.summary}` : '';
  return `${rules} raised ${record.alertCount} alert(s) on ${target}${first}.`;
}

function describeFinding(finding: HardeningFinding): string {
  return finding.container ? `${finding.container} ${finding.title}` : finding.title;
}

function clockAnswer(record: IncidentRecord, missedCount: number): string {
  const missed = record.clocks.filter((clock) => clock.missedAt).map((clock) => `${clock.name} (due ${clock.dueAt})`);
  const waits = record.gates.filter((gate) => gate.status === 'timed_out').map((gate) => gate.gate);
  const parts = [missedCount > 0 ? `missed clocks: ${missed.join(', ')}` : 'every clock was met or is still running'];
  if (waits.length > 0) parts.push(`gates that timed out waiting for a person: ${waits.join(', ')}`);
  return `${parts.join('; ')}.`;
}

/** Follow-up actions derived from the record: fixes, open inverses, missed clocks, incomplete evidence. */
export function followUpActions(input: RootCauseInput & { incompleteEvidence: string[] }): string[] {
  const { record, chain, findings } = input;
  const actions: string[] = [];
  for (const step of record.containment) {
    if (step.inverse.status === 'pending' || step.inverse.status === 'failed') {
      actions.push(`Undo containment step ${step.step} (${step.summary}): its inverse is ${step.inverse.status}.`);
    }
  }
  for (const clock of record.clocks.filter((candidate) => candidate.missedAt)) {
    actions.push(`Review why the ${clock.name} clock was missed (due ${clock.dueAt}).`);
  }
  for (const gate of record.gates.filter((candidate) => candidate.status === 'timed_out')) {
    actions.push(
      `Check approver availability for the ${gate.gate} gate: it timed out${gate.defaultApplied ? ` and the default ${gate.defaultApplied} applied` : ''}.`,
    );
  }
  if (chain.some((stage) => stage.stage === 'credential access') && record.target?.serviceAccount) {
    actions.push(
      `Rotate credentials reachable from service account ${record.target.namespace}/${record.target.serviceAccount}.`,
    );
  }
  if (input.incompleteEvidence.length > 0) {
    actions.push(
      `Evidence is incomplete for ${input.incompleteEvidence.join(', ')}: collect it by hand if the workload still exists.`,
    );
  }
  if (!record.target)
    actions.push(`Resolve the target by hand: ${record.targetUnresolvedReason ?? 'no reason recorded'}.`);
  for (const finding of findings ?? []) {
    actions.push(`${finding.container ? `Container ${finding.container}: ` : ''}${finding.fix} (${finding.title}).`);
  }
  actions.push('Hold the post-incident review and fill in the unanswered whys.');
  return actions;
}
