import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { severitySchema } from '../../domain/alert';
import { maxReasonLength, phaseSchema, standDownInputSchema } from '../../domain/incident';
import { incidentSearchAttributes as names } from '../../domain/search-attributes';
import { standDownUpdate, statusQuery, type IncidentStatus, type StandDownResult } from '../../workflows/messages';
import { printable, printableJson } from '../playbooks/terminal-text';
import {
  decisionFailure,
  defaultIncidentCommandDeps,
  incidentIdArgument,
  invalidInputMessage,
  operatorIdentity,
  type IncidentCommandDeps,
} from './decide';

/** Kubernetes namespace names: RFC 1123 labels, so they are safe inside a visibility query string. */
const namespaceFilterSchema = z
  .string()
  .max(63, 'expected a Kubernetes namespace name of at most 63 characters')
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    "expected a Kubernetes namespace name: lowercase letters, digits and '-', starting and ending with a letter or digit",
  );

const listOptionsSchema = z.object({
  phase: phaseSchema.optional(),
  severity: severitySchema.optional(),
  namespace: namespaceFilterSchema.optional(),
  json: z.boolean().optional(),
  limit: z.coerce
    .number({ error: 'expected a whole number' })
    .int('expected a whole number')
    .positive('expected a number of at least 1')
    .default(100),
});
type ListOptions = z.infer<typeof listOptionsSchema>;

/** Command-line option of each list filter, for error messages. */
const listOptionNames: Record<string, string> = {
  phase: '--phase',
  severity: '--severity',
  namespace: '--namespace',
  limit: '--limit',
};

/** Describes each invalid list option on one line: the option, the value given, and what is allowed. */
function invalidListOptionLines(error: z.ZodError, raw: unknown): string[] {
  const rawOptions =
    typeof raw === 'object' && raw !== null ? new Map(Object.entries(raw)) : new Map<string, unknown>();
  return error.issues.map((issue) => {
    const field = String(issue.path[0] ?? 'options');
    const value = rawOptions.get(field);
    const quotedValue = value === undefined ? '' : ` ${JSON.stringify(String(value))}`;
    return `firebreak: invalid ${listOptionNames[field] ?? field}${quotedValue}: ${issue.message}`;
  });
}

/**
 * Visibility query for incidents. A long incident continues as new several times, and only its latest run
 * is listed. A run that closed its incident and then continued as new into the next one, because alerts
 * arrived while it closed, is listed too, by its `closed` phase. Values are checked against enums and the namespace
 * name syntax before they reach the query, so no quote can end a string early.
 */
export function incidentListQuery(filters: Pick<ListOptions, 'phase' | 'severity' | 'namespace'>): string {
  const clauses = [
    `WorkflowType = 'incidentWorkflow'`,
    `(ExecutionStatus != 'ContinuedAsNew' OR ${names.phase.name} = 'closed')`,
  ];
  if (filters.phase) clauses.push(`${names.phase.name} = '${filters.phase}'`);
  if (filters.severity) clauses.push(`${names.severity.name} = '${filters.severity}'`);
  if (filters.namespace) clauses.push(`${names.namespace.name} = '${filters.namespace}'`);
  return clauses.join(' AND ');
}

const keys = {
  phase: defineSearchAttributeKey(names.phase.name, names.phase.type),
  severity: defineSearchAttributeKey(names.severity.name, names.severity.type),
  namespace: defineSearchAttributeKey(names.namespace.name, names.namespace.type),
  workload: defineSearchAttributeKey(names.workload.name, names.workload.type),
  gate: defineSearchAttributeKey(names.gate.name, names.gate.type),
  alertCount: defineSearchAttributeKey(names.alertCount.name, names.alertCount.type),
};

/** One incident as `incidents list` prints it. */
export interface IncidentListEntry {
  incidentId: string;
  runId: string;
  status: string;
  severity?: string;
  phase?: string;
  gate?: string;
  alertCount?: number;
  namespace?: string;
  workload?: string;
  startedAt: string;
  summary?: string;
}

function listEntry(info: WorkflowExecutionInfo): IncidentListEntry {
  const attributes = info.typedSearchAttributes;
  const summary = info.memo?.['summary'];
  return {
    incidentId: info.workflowId,
    runId: info.runId,
    status: info.status.name,
    severity: attributes.get(keys.severity),
    phase: attributes.get(keys.phase),
    gate: attributes.get(keys.gate),
    alertCount: attributes.get(keys.alertCount),
    namespace: attributes.get(keys.namespace),
    workload: attributes.get(keys.workload),
    startedAt: info.startTime.toISOString(),
    summary: typeof summary === 'string' ? summary : undefined,
  };
}

/** Lists incidents through Temporal visibility, newest first as Temporal returns them. */
export async function listIncidents(client: Client, options: ListOptions): Promise<IncidentListEntry[]> {
  const entries: IncidentListEntry[] = [];
  for await (const info of client.workflow.list({ query: incidentListQuery(options) })) {
    entries.push(listEntry(info));
    if (entries.length >= options.limit) break;
  }
  return entries;
}

function renderList(entries: IncidentListEntry[]): string {
  if (entries.length === 0) return 'no incidents match';
  const header = ['INCIDENT', 'SEV', 'PHASE', 'GATE', 'ALERTS', 'NAMESPACE', 'WORKLOAD', 'STATUS'];
  const rows = entries.map((entry) =>
    [
      entry.incidentId,
      entry.severity ?? '-',
      entry.phase ?? '-',
      entry.gate ?? '-',
      String(entry.alertCount ?? '-'),
      entry.namespace ?? '-',
      entry.workload ?? '-',
      entry.status,
    ].map(printable),
  );
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function renderGate(gate: IncidentStatus['gates'][number]): string {
  const result = gate.result
    ? `${gate.result.status} ${gate.result.decider ? `by ${gate.result.decider} ` : ''}${gate.result.channel ? `via ${gate.result.channel} ` : ''}at ${gate.result.at}`
    : '';
  const approvals = gate.approvals.map((name, index) => `${name} via ${gate.approvalChannels[index] ?? '?'}`);
  const open =
    gate.state === 'open'
      ? `until ${gate.deadlineAt ?? '?'}, approvals ${gate.approvals.length}/${gate.requiredApprovals}` +
        `${approvals.length > 0 ? ` (${approvals.join(', ')})` : ''}${gate.askReason ? `, asks because ${gate.askReason}` : ''}`
      : '';
  return `  ${gate.gate}: ${gate.state} ${open}${result}`.trimEnd();
}

function renderStandDown(status: IncidentStatus): string[] {
  const lines: string[] = [];
  const standDown = status.standDown;
  if (standDown) {
    const lift = standDown.liftContainment ? 'lift containment' : 'keep containment';
    lines.push(
      `stood down by ${standDown.by} via ${standDown.channel} at ${standDown.at} (${lift}): ${standDown.reason}`,
    );
  }
  if (status.liftRequest) {
    const { approvals, requiredApprovals } = status.liftRequest;
    lines.push(`request to lift containment: ${approvals.join(', ')} (${approvals.length}/${requiredApprovals})`);
  }
  for (const failed of status.failedSteps) lines.push(`containment step ${failed.step} failed: ${failed.error}`);
  return lines;
}

/**
 * Renders the result of the `status` query for a person. Every line passes through `printable`, because
 * alert texts, reasons and names come from outside: a control character in them is shown escaped, so it
 * can neither act on the terminal nor start a line of its own.
 */
export function renderStatus(status: IncidentStatus): string {
  const target = status.target
    ? `${status.target.namespace}/${status.target.pod}`
    : `unresolved (${status.targetUnresolvedReason ?? 'unknown'})`;
  const lines = [
    `${status.incidentId}: ${status.summary}`,
    `severity ${status.severity ?? '-'}, phase ${status.phase}, waiting gate ${status.waitingGate}${status.dryRun ? ', dry run' : ''}`,
    `playbook ${status.playbook ? `${status.playbook.name} v${status.playbook.version}` : '-'}, target ${target}`,
    `alerts ${status.alertCount} firing, ${status.resolvedCount} resolved (${status.redeliveries} redeliveries), rules ${status.rules.join(', ') || '-'}`,
    ...(status.triggerersIncomplete
      ? [`triggering users incomplete (${status.triggerersIncomplete}): forbidTriggerer forbids only those recorded`]
      : []),
    ...(status.invalidAlertSignals > 0 ? [`invalid alerts signals dropped: ${status.invalidAlertSignals}`] : []),
    `opened ${status.openedAt}${status.closedAt ? `, closed ${status.closedAt}: ${status.outcome ?? ''}` : ''}`,
    ...(status.previousRunId ? [`follows the closed run ${status.previousRunId}`] : []),
    ...renderStandDown(status),
    'gates:',
    ...status.gates.map(renderGate),
    `timeline (last ${status.timeline.length} of ${status.timelineLength}, ${status.rejectedAttempts} rejected attempts):`,
    ...status.timeline.map((entry) => `  ${entry.at} ${entry.kind.padEnd(8)} ${entry.summary}`),
  ];
  return lines.map(printable).join('\n');
}

async function withClient<T>(deps: IncidentCommandDeps, run: (client: Client) => Promise<T>): Promise<T> {
  const client = await deps.connect();
  try {
    return await run(client);
  } finally {
    await client.connection.close();
  }
}

async function show(deps: IncidentCommandDeps, id: string, json: boolean): Promise<number> {
  const incidentId = incidentIdArgument(id);
  try {
    const status = await withClient(deps, (client) => client.workflow.getHandle(incidentId).query(statusQuery));
    deps.out(json ? printableJson(JSON.stringify(status, null, 2)) : renderStatus(status));
    return 0;
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    deps.err(printable(`firebreak: incident ${incidentId} not found`));
    return 1;
  }
}

function standDownMessage(incidentId: string, result: StandDownResult): string {
  if (result.status === 'pending') {
    const count = `${result.approvals.length} of ${result.requiredApprovals}`;
    return `lifting containment of ${incidentId} waits for a second, different approver (${count}: ${result.approvals.join(', ')})`;
  }
  const containment = result.liftContainment ? 'containment will be lifted' : 'containment stays in place';
  return `stand-down of ${incidentId} accepted from ${result.by} via cli: ${containment}`;
}

async function standDown(
  deps: IncidentCommandDeps,
  id: string,
  options: { reason: string; liftContainment?: boolean },
): Promise<number> {
  const incidentId = incidentIdArgument(id);
  const parsed = standDownInputSchema.safeParse({
    reason: options.reason,
    liftContainment: options.liftContainment === true,
    by: operatorIdentity(deps.env),
    channel: 'cli',
  });
  if (!parsed.success) {
    deps.err(printable(`firebreak: invalid stand-down: ${invalidInputMessage(parsed.error)}`));
    return 1;
  }
  try {
    const result = await withClient(deps, (client) =>
      client.workflow.getHandle(incidentId).executeUpdate(standDownUpdate, { args: [parsed.data] }),
    );
    deps.out(printable(standDownMessage(incidentId, result)));
    return 0;
  } catch (error) {
    const reason = decisionFailure(error, incidentId);
    if (reason === undefined) throw error;
    deps.err(printable(`firebreak: stand-down rejected: ${reason}`));
    return 1;
  }
}

/** Registers `firebreak incidents list|show|stand-down`; they set `process.exitCode`. */
export function registerIncidentCommands(
  program: Command,
  deps: IncidentCommandDeps = defaultIncidentCommandDeps,
): void {
  const incidents = program.command('incidents').description('List and inspect incidents, or stand one down');

  incidents
    .command('list')
    .description('List incidents from Temporal visibility')
    .addOption(new Option('--phase <phase>', 'only incidents in this phase').choices(phaseSchema.options))
    .addOption(new Option('--severity <severity>', 'only incidents of this severity').choices(severitySchema.options))
    .option('--namespace <namespace>', 'only incidents in this Kubernetes namespace')
    .option('--limit <count>', 'print at most this many incidents', '100')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const parsed = listOptionsSchema.safeParse(raw);
      if (!parsed.success) {
        invalidListOptionLines(parsed.error, raw).forEach((line) => deps.err(printable(line)));
        process.exitCode = 1;
        return;
      }
      const options = parsed.data;
      const entries = await withClient(deps, (client) => listIncidents(client, options));
      deps.out(options.json ? printableJson(JSON.stringify(entries, null, 2)) : renderList(entries));
      process.exitCode = 0;
    });

  incidents
    .command('show')
    .description('Show the state of one incident through its status query')
    .argument('<incident>', 'incident id (incident-<fingerprint>) or fingerprint')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      process.exitCode = await show(deps, id, options.json === true);
    });

  incidents
    .command('stand-down')
    .description(
      'Stop the response as an approver of a gate at the current severity; containment stays in place unless ' +
        '--lift-containment is given',
    )
    .argument('<incident>', 'incident id (incident-<fingerprint>) or fingerprint')
    .addOption(
      new Option(
        '--reason <text>',
        `why, at most ${maxReasonLength} characters; recorded on the incident timeline`,
      ).makeOptionMandatory(),
    )
    .option(
      '--lift-containment',
      'undo containment steps, last first; needs an approver of the restore gate, and two when it is two-person',
    )
    .action(async (id: string, options: { reason: string; liftContainment?: boolean }) => {
      process.exitCode = await standDown(deps, id, options);
    });
}
