import type { ContainmentRecord } from '../../domain/response';
import { isIncidentId } from '../evidence/store';
import { escapeMarkdown, inlineCode } from './markdown-escape';
import type { RecoveryStep } from './recovery';
import type { IncidentReport } from './report';

export { escapeMarkdown, inlineCode } from './markdown-escape';

const e = escapeMarkdown;
const code = (value: string) => inlineCode(value, 'text');

/** A table cell: text, escaped when rendered, or a value shown as inline code. */
type Cell = string | { code: string };

/** Renders a table; every cell is escaped for a table, so no value can add a column or a row. */
function table(headers: string[], rows: Cell[][]): string[] {
  if (rows.length === 0) return ['None recorded.'];
  const render = (cell: Cell) => (typeof cell === 'string' ? e(cell) : inlineCode(cell.code, 'table'));
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(render).join(' | ')} |`),
  ];
}

function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * Renders the report as Markdown, one section per heading in a fixed order. Headings are fixed text; the
 * incident id joins the title only when it has the form of an incident id.
 */
export function renderMarkdown(report: IncidentReport): string {
  const id = report.summary.incidentId;
  const title = isIncidentId(id) ? `# Incident report: ${id}` : '# Incident report';
  return [
    title,
    '',
    `Generated ${e(report.generatedAt)}.`,
    '',
    ...renderSummary(report),
    ...renderSeverity(report),
    '',
    '## Target',
    '',
    ...renderTarget(report),
    ...renderTimeline(report),
    '',
    ...renderDecisions(report),
    '',
    ...renderEvidence(report),
    '',
    '## Containment and recovery',
    '',
    '### Containment',
    '',
    ...stepTable(report.containment),
    '',
    '### Recovery',
    '',
    ...recoveryTable(report.recovery),
    ...renderReview(report),
    '',
  ].join('\n');
}

function renderSummary(report: IncidentReport): string[] {
  const { summary } = report;
  const dryRun = summary.dryRun ? '; dry run (nothing was changed)' : '';
  const closed = summary.closedAt ? `, closed ${e(summary.closedAt)}` : ', still open';
  const duration = summary.durationMs !== undefined ? ` (${formatDuration(summary.durationMs)})` : '';
  const lines = [
    '## Summary',
    '',
    `- Outcome: ${e(summary.outcome)}`,
    `- Severity: ${e(report.severity.current)}; phase: ${e(summary.phase)}${dryRun}`,
    `- Target: ${e(summary.target)}`,
    `- Playbook: ${e(summary.playbook)}; fingerprint ${code(summary.fingerprint)}`,
    `- Opened ${e(summary.openedAt)}${closed}${duration}`,
    `- Alerts: ${summary.alertCount} (${summary.redeliveries} redeliveries); rules: ${summary.rules.map(e).join(', ') || 'none'}`,
  ];
  if (summary.standDown) {
    const { by, at, reason } = summary.standDown;
    lines.push(`- Stood down by ${e(by)} at ${e(at)}: ${e(reason)}`);
  }
  return lines;
}

function renderSeverity(report: IncidentReport): string[] {
  const clockStatus = (clock: IncidentReport['clocks'][number]) => {
    if (clock.status === 'met') return `met at ${clock.metAt}`;
    if (clock.status === 'missed') return `missed at ${clock.missedAt}`;
    if (clock.status === 'stopped') return `stopped at ${clock.stoppedAt}: the incident was stood down first`;
    return 'running';
  };
  return [
    '',
    '## Severity and clocks',
    '',
    ...table(
      ['Severity', 'Since', 'Reason'],
      report.severity.history.map((change) => [change.severity, change.at, change.reason]),
    ),
    '',
    ...table(
      ['Clock', 'Target', 'Started', 'Due', 'Status'],
      report.clocks.map((clock) => [
        clock.name,
        formatDuration(clock.targetMs),
        clock.startedAt,
        clock.dueAt,
        clockStatus(clock),
      ]),
    ),
  ];
}

function renderTarget(report: IncidentReport): string[] {
  const target = report.target;
  if ('unresolved' in target) return [`Unresolved: ${e(target.unresolved)}`];
  const labels = Object.entries(target.labels).map(([key, value]) => code(`${key}=${value}`));
  return [
    `- Pod: ${e(target.namespace)}/${e(target.pod)} (uid ${code(target.uid)}, resourceVersion ${code(target.resourceVersion)})`,
    `- Node: ${e(target.node ?? 'unknown')}; service account: ${e(target.serviceAccount ?? 'unknown')}`,
    `- Workload: ${target.workload ? `${e(target.workload.kind)} ${e(target.workload.name)}` : 'none (standalone pod)'}`,
    `- Owners: ${target.owners.map((owner) => `${e(owner.kind)} ${e(owner.name)}`).join(' → ') || 'none'}`,
    `- Labels: ${labels.join(', ') || 'none'}`,
    ...target.images.map(
      (image) =>
        `- Image of ${e(image.container)}: ${code(image.image)}${image.imageID ? ` (${code(image.imageID)})` : ''}`,
    ),
  ];
}

function renderTimeline(report: IncidentReport): string[] {
  const dropped = report.timeline.dropped;
  return [
    '',
    '## Timeline',
    '',
    ...(dropped > 0 ? [`${dropped} earlier entries were dropped to bound the record.`, ''] : []),
    ...table(
      ['Time', 'Kind', 'What happened'],
      report.timeline.entries.map((entry) => [entry.at, entry.kind, entry.summary]),
    ),
    '',
    '## Attack chain',
    '',
    ...table(
      ['Stage', 'First seen', 'Mapped from'],
      report.attackChain.map((stage) => [stage.stage, stage.firstSeen ?? '-', stage.evidence.join(', ')]),
    ),
  ];
}

function renderDecisions(report: IncidentReport): string[] {
  return [
    '## Decisions',
    '',
    ...table(
      ['Gate', 'Status', 'Decision', 'Who', 'Channel', 'When', 'Reason'],
      report.decisions.map((gate) => [
        gate.gate,
        gate.status + (gate.defaultApplied ? ` (default ${gate.defaultApplied} applied)` : ''),
        gate.decision ?? '-',
        (gate.deciders ?? (gate.decider ? [gate.decider] : [])).join(', ') || '-',
        gate.channel ?? '-',
        gate.at,
        gate.reason ?? '-',
      ]),
    ),
  ];
}

function renderEvidence(report: IncidentReport): string[] {
  const { evidence } = report;
  const lines = ['## Evidence', ''];
  if (evidence.manifestPath) lines.push(`Custody manifest: ${code(evidence.manifestPath)}`, '');
  if (evidence.chain?.headSha256) {
    lines.push(
      `Custody chain head: ${code(evidence.chain.headSha256)} after ${evidence.chain.entryCount} entries.`,
      '',
    );
  }
  if (evidence.verification) lines.push(verificationVerdict(evidence), '');
  const state = (row: IncidentReport['evidence']['artefacts'][number]) =>
    row.stateReason === undefined ? row.state : `${row.state}: ${row.stateReason}`;
  lines.push(
    ...table(
      ['Artefact', 'SHA-256', 'Bytes', 'State', 'Source', 'Collected'],
      evidence.artefacts.map((row) => [
        row.name,
        { code: row.sha256 },
        String(row.bytes),
        state(row),
        row.source ?? '-',
        row.collectedAt ? `${row.collectedAt} by ${row.collector ?? '?'}` : '-',
      ]),
    ),
  );
  if (evidence.omittedArtefacts) {
    lines.push('', `${evidence.omittedArtefacts} more artefacts are listed only in the custody manifest.`);
  }
  return lines;
}

/** States what the verification covered: only the store, or also the head recorded at collection. */
function verificationVerdict(evidence: IncidentReport['evidence']): string {
  const verification = evidence.verification;
  if (verification && !verification.ok) {
    const problems = verification.problems.map((problem) => `${e(problem.artefact)}: ${e(problem.problem)}`);
    return `Verification FAILED when this report was written: ${problems.join('; ')}`;
  }
  const recorded = evidence.recordedHead;
  if (recorded && evidence.verifiedAgainstRecordedHead) {
    const count = recorded.custodyEntryCount === undefined ? '' : ` with ${recorded.custodyEntryCount} entries`;
    return (
      `Verified against the head recorded at collection (${code(recorded.custodyHeadSha256)}${count}) when this ` +
      'report was written: every artefact matches its hash and the custody chain is intact.'
    );
  }
  return (
    'Verified when this report was written: every artefact matches its hash and the custody chain is intact. ' +
    'The chain was not checked against a head recorded at collection, because the incident record carries ' +
    'none, so a chain rewritten as a whole would also pass.'
  );
}

function renderReview(report: IncidentReport): string[] {
  const lines = ['', '## Root cause (five whys)', ''];
  for (const why of report.rootCause) {
    const answer = why.answer ? e(why.answer) : '_Not answered by the recorded data: fill in at the review._';
    lines.push(`${why.why}. ${e(why.prompt)}`, `   ${answer}`);
  }

  lines.push('', '## Hardening findings', '');
  if ('unavailable' in report.hardening) {
    lines.push(`Not assessed: ${e(report.hardening.unavailable)}.`);
  } else {
    lines.push(
      ...table(
        ['Severity', 'Container', 'Finding', 'Fix'],
        report.hardening.findings.map((finding) => [
          finding.severity,
          finding.container ?? '(pod)',
          finding.title,
          finding.fix,
        ]),
      ),
    );
  }
  lines.push('', '## Follow-up actions', '', ...report.followUps.map((action) => `- [ ] ${e(action)}`));
  return lines;
}

function recoveryTable(steps: RecoveryStep[]): string[] {
  return table(
    ['Step', 'What', 'When', 'Status'],
    steps.map((step) => [
      step.action,
      step.summary,
      step.at ?? '-',
      step.status + (step.error ? `: ${step.error}` : ''),
    ]),
  );
}

function stepTable(steps: ContainmentRecord[]): string[] {
  return table(
    ['Step', 'What', 'When', 'Status', 'Undo'],
    steps.map((step) => [
      step.step,
      step.summary + (step.dryRun ? ' (dry run)' : ''),
      step.at,
      step.status + (step.error ? `: ${step.error}` : ''),
      `${step.inverse.activity ? `${step.inverse.activity} ` : ''}${step.inverse.status}${step.inverse.at ? ` at ${step.inverse.at}` : ''}`,
    ]),
  );
}
