import type { ContainmentRecord } from '../../domain/response';
import type { IncidentReport } from './report';

/**
 * Escapes text for Markdown. Alert fields are attacker-controlled, so every value is escaped: markup
 * characters get a backslash, angle brackets become entities (no raw HTML), and line breaks become spaces.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_[\]#|~!]/g, (character) => `\\${character}`)
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

function table(headers: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ['None recorded.'];
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
}

function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Renders the report as Markdown, one section per heading in a fixed order. */
export function renderMarkdown(report: IncidentReport): string {
  const e = escapeMarkdown;
  const { summary } = report;
  const lines: string[] = [`# Incident report: ${e(summary.incidentId)}`, '', `Generated ${report.generatedAt}.`, ''];

  lines.push('## Summary', '');
  lines.push(`- Outcome: ${e(summary.outcome)}`);
  lines.push(
    `- Severity: ${e(report.severity.current)}; phase: ${e(summary.phase)}${summary.dryRun ? '; dry run (nothing was changed)' : ''}`,
  );
  lines.push(`- Target: ${e(summary.target)}`);
  lines.push(`- Playbook: ${e(summary.playbook)}; fingerprint ${code(summary.fingerprint)}`);
  lines.push(
    `- Opened ${summary.openedAt}${summary.closedAt ? `, closed ${summary.closedAt}` : ', still open'}${summary.durationMs !== undefined ? ` (${formatDuration(summary.durationMs)})` : ''}`,
  );
  lines.push(
    `- Alerts: ${summary.alertCount} (${summary.redeliveries} redeliveries); rules: ${summary.rules.map(e).join(', ') || 'none'}`,
  );
  if (summary.standDown) {
    lines.push(`- Stood down by ${e(summary.standDown.by)} at ${summary.standDown.at}: ${e(summary.standDown.reason)}`);
  }

  lines.push('', '## Severity and clocks', '');
  lines.push(
    ...table(
      ['Severity', 'Since', 'Reason'],
      report.severity.history.map((change) => [change.severity, change.at, e(change.reason)]),
    ),
  );
  lines.push('');
  lines.push(
    ...table(
      ['Clock', 'Target', 'Started', 'Due', 'Status'],
      report.clocks.map((clock) => [
        clock.name,
        formatDuration(clock.targetMs),
        clock.startedAt,
        clock.dueAt,
        clock.status === 'met'
          ? `met at ${clock.metAt}`
          : clock.status === 'missed'
            ? `missed at ${clock.missedAt}`
            : 'running',
      ]),
    ),
  );

  lines.push('', '## Target', '', ...renderTarget(report));

  lines.push('', '## Timeline', '');
  if (report.timeline.dropped > 0)
    lines.push(`${report.timeline.dropped} earlier entries were dropped to bound the record.`, '');
  lines.push(
    ...table(
      ['Time', 'Kind', 'What happened'],
      report.timeline.entries.map((entry) => [entry.at, entry.kind, e(entry.summary)]),
    ),
  );

  lines.push('', '## Attack chain', '');
  lines.push(
    ...table(
      ['Stage', 'First seen', 'Mapped from'],
      report.attackChain.map((stage) => [stage.stage, stage.firstSeen ?? '-', stage.evidence.map(e).join(', ')]),
    ),
  );

  lines.push('', '## Decisions', '');
  lines.push(
    ...table(
      ['Gate', 'Status', 'Decision', 'Who', 'Channel', 'When', 'Reason'],
      report.decisions.map((gate) => [
        gate.gate,
        gate.status + (gate.defaultApplied ? ` (default ${gate.defaultApplied} applied)` : ''),
        gate.decision ?? '-',
        e((gate.deciders ?? (gate.decider ? [gate.decider] : [])).join(', ') || '-'),
        gate.channel ?? '-',
        gate.at,
        e(gate.reason ?? '-'),
      ]),
    ),
  );

  lines.push('', ...renderEvidence(report));
  lines.push('', '## Containment and recovery', '', '### Containment', '', ...stepTable(report.containment));
  lines.push('', '### Recovery', '', ...stepTable(report.recovery));

  lines.push('', '## Root cause (five whys)', '');
  for (const why of report.rootCause) {
    lines.push(
      `${why.why}. ${e(why.prompt)}`,
      `   ${why.answer ? e(why.answer) : '_Not answered by the recorded data: fill in at the review._'}`,
    );
  }

  lines.push('', '## Hardening findings', '');
  if ('unavailable' in report.hardening) lines.push(`Not assessed: ${e(report.hardening.unavailable)}.`);
  else
    lines.push(
      ...table(
        ['Severity', 'Container', 'Finding', 'Fix'],
        report.hardening.findings.map((finding) => [
          finding.severity,
          e(finding.container ?? '(pod)'),
          e(finding.title),
          e(finding.fix),
        ]),
      ),
    );

  lines.push('', '## Follow-up actions', '', ...report.followUps.map((action) => `- [ ] ${e(action)}`), '');
  return lines.join('\n');
}

function renderTarget(report: IncidentReport): string[] {
  const target = report.target;
  if ('unresolved' in target) return [`Unresolved: ${escapeMarkdown(target.unresolved)}`];
  const e = escapeMarkdown;
  return [
    `- Pod: ${e(target.namespace)}/${e(target.pod)} (uid ${code(target.uid)}, resourceVersion ${code(target.resourceVersion)})`,
    `- Node: ${e(target.node ?? 'unknown')}; service account: ${e(target.serviceAccount ?? 'unknown')}`,
    `- Workload: ${target.workload ? `${e(target.workload.kind)} ${e(target.workload.name)}` : 'none (standalone pod)'}`,
    `- Owners: ${target.owners.map((owner) => `${e(owner.kind)} ${e(owner.name)}`).join(' → ') || 'none'}`,
    ...target.images.map(
      (image) =>
        `- Image of ${e(image.container)}: ${code(image.image)}${image.imageID ? ` (${code(image.imageID)})` : ''}`,
    ),
  ];
}

function renderEvidence(report: IncidentReport): string[] {
  const { evidence } = report;
  const lines = ['## Evidence', ''];
  if (evidence.manifestPath) lines.push(`Custody manifest: ${code(evidence.manifestPath)}`, '');
  if (evidence.verification) {
    const verdict = evidence.verification.ok
      ? 'Verified when this report was written: every artefact matches its hash and the custody chain is intact.'
      : `Verification FAILED when this report was written: ${evidence.verification.problems.map((problem) => `${escapeMarkdown(problem.artefact)}: ${escapeMarkdown(problem.problem)}`).join('; ')}`;
    lines.push(verdict, '');
  }
  const flags = (row: IncidentReport['evidence']['artefacts'][number]) =>
    [row.incomplete ? 'incomplete' : '', row.truncated ? 'truncated' : '', row.unsupported ? 'unsupported' : '']
      .filter(Boolean)
      .join(', ') || '-';
  lines.push(
    ...table(
      ['Artefact', 'SHA-256', 'Bytes', 'Flags', 'Source', 'Collected'],
      evidence.artefacts.map((row) => [
        escapeMarkdown(row.name),
        code(row.sha256),
        String(row.bytes),
        flags(row),
        escapeMarkdown(row.source ?? '-'),
        row.collectedAt ? `${row.collectedAt} by ${row.collector ?? '?'}` : '-',
      ]),
    ),
  );
  return lines;
}

function stepTable(steps: ContainmentRecord[]): string[] {
  return table(
    ['Step', 'What', 'When', 'Status', 'Undo'],
    steps.map((step) => [
      escapeMarkdown(step.step),
      escapeMarkdown(step.summary) + (step.dryRun ? ' (dry run)' : ''),
      step.at,
      step.status + (step.error ? `: ${escapeMarkdown(step.error)}` : ''),
      `${step.inverse.activity ? `${escapeMarkdown(step.inverse.activity)} ` : ''}${step.inverse.status}${step.inverse.at ? ` at ${step.inverse.at}` : ''}`,
    ]),
  );
}
