import { writeFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import type { Alert } from '../../domain/alert';
import { AlertBodyError } from '../../domain/parsers/common';
import { playbookJsonSchema } from '../../domain/playbook';
import type { MatchContext } from '../../domain/playbook-match';
import { selectPlaybook } from '../../domain/playbook-match';
import { alertFileFormats, readAlertFile, type AlertFileFormat } from '../playbooks/alert-file';
import { formatDiagnostic, loadPlaybookDirectory, type PlaybookLoadResult } from '../playbooks/loader';
import { planForSelection, renderPlan, type ResponsePlan } from '../playbooks/plan';
import { printable, printableJson } from '../playbooks/terminal-text';

/**
 * `firebreak playbooks validate|test|schema`. Exit codes for CI: 0 when everything is valid (and, for
 * `test`, a playbook from the directory claims every alert), 1 for invalid playbooks or alerts and for
 * alerts that no playbook claims, 2 for usage errors. Every printed value passes through `printable`, because
 * alert text is chosen by the attacker and must not forge lines or control the terminal of a CI log.
 */

export const exitOk = 0;
export const exitProblem = 1;
export const exitUsage = 2;

export interface CommandOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processOutput: CommandOutput = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** Registers `playbooks` and its subcommands on the program; they set `process.exitCode`. */
export function registerPlaybookCommands(program: Command, output: CommandOutput = processOutput): void {
  const playbooks = program.command('playbooks').description('Validate response playbooks and try them on alerts');

  playbooks
    .command('validate')
    .description('Validate every playbook in a directory, as a CI step')
    .argument('[dir]', 'directory with the playbook YAML files', 'playbooks')
    .option('--warnings-as-errors', 'fail (exit code 1) on warnings too')
    .action(async (directory: string, options: { warningsAsErrors?: boolean }) => {
      process.exitCode = await validateCommand(directory, options.warningsAsErrors === true, output);
    });

  playbooks
    .command('test')
    .description('Show which playbook claims an alert and the dry-run plan of what it would do')
    .argument('<alert-file>', 'alert body as a sender posts it, or a normalised alert')
    .option('--dir <dir>', 'directory with the playbook YAML files', 'playbooks')
    .addOption(new Option('--format <format>', 'alert file format; detected when absent').choices(alertFileFormats))
    .option('--expect <playbook>', 'fail (exit code 1) unless this playbook claims every alert')
    .option(
      '--affected-nodes <count>',
      'nodes with alerts for the incident; default: distinct nodes in the file',
      parseCount,
    )
    .option('--json', 'print the plans as JSON')
    .action(async (alertFile: string, options: TestOptions) => {
      process.exitCode = await testCommand(alertFile, options, output);
    });

  playbooks
    .command('schema')
    .description('Print the JSON Schema of the playbook format, for editors')
    .option('--output <file>', 'write the schema to this file instead of standard output')
    .action(async (options: { output?: string }) => {
      const text = `${JSON.stringify(playbookJsonSchema(), null, 2)}\n`;
      if (options.output === undefined) {
        output.out(text.trimEnd());
      } else {
        await writeFile(options.output, text);
      }
    });

  for (const command of [playbooks, ...playbooks.commands]) {
    command.exitOverride(asUsageError);
  }
}

/** Commander reports usage errors with exit code 1; the playbook commands use 2 for them. */
function asUsageError(error: CommanderError): never {
  if (error.exitCode === 0) {
    throw error;
  }
  throw new CommanderError(exitUsage, error.code, error.message);
}

function parseCount(text: string): number {
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1) {
    throw new InvalidArgumentError('Expected a whole number of at least 1.');
  }
  return count;
}

export interface TestOptions {
  dir: string;
  format?: AlertFileFormat;
  expect?: string;
  affectedNodes?: number;
  json?: boolean;
}

/** Loads a playbook directory, reporting a missing or unreadable directory as a usage error. */
async function loadDirectory(directory: string, output: CommandOutput): Promise<PlaybookLoadResult | undefined> {
  try {
    return await loadPlaybookDirectory(directory);
  } catch (error) {
    output.err(printable(`firebreak: cannot read playbook directory ${directory}: ${errorMessage(error)}`));
    return undefined;
  }
}

/** Runs `playbooks validate` and returns its exit code. */
export async function validateCommand(
  directory: string,
  warningsAsErrors: boolean,
  output: CommandOutput,
): Promise<number> {
  const result = await loadDirectory(directory, output);
  if (result === undefined) {
    return exitUsage;
  }

  for (const diagnostic of result.diagnostics) {
    output.err(printable(formatDiagnostic(diagnostic)));
  }
  const errors = result.diagnostics.filter((diagnostic) => diagnostic.level === 'error').length;
  const warnings = result.diagnostics.length - errors;
  const failed = errors > 0 || (warningsAsErrors && warnings > 0);
  if (failed) {
    output.out(printable(`${errors} error(s), ${warnings} warning(s) in ${directory}`));
    return exitProblem;
  }

  const names = result.playbooks.map(({ playbook }) => `${playbook.metadata.name} v${playbook.metadata.version}`);
  const warningNote = warnings > 0 ? ` (${warnings} warning(s))` : '';
  output.out(
    printable(`${result.playbooks.length} playbook(s) valid in ${directory}: ${names.join(', ')}${warningNote}`),
  );
  return exitOk;
}

/** Runs `playbooks test` and returns its exit code. */
export async function testCommand(alertFile: string, options: TestOptions, output: CommandOutput): Promise<number> {
  const result = await loadDirectory(options.dir, output);
  if (result === undefined) {
    return exitUsage;
  }
  const errors = result.diagnostics.filter((diagnostic) => diagnostic.level === 'error');
  if (errors.length > 0) {
    errors.forEach((diagnostic) => output.err(printable(formatDiagnostic(diagnostic))));
    output.err(printable(`firebreak: the playbooks in ${options.dir} are invalid; fix them before testing alerts`));
    return exitProblem;
  }

  const alerts = await readAlerts(alertFile, options.format, output);
  if (typeof alerts === 'number') {
    return alerts;
  }

  const playbooks = result.playbooks.map((loaded) => loaded.playbook);
  const files = new Map(result.playbooks.map((loaded) => [loaded.playbook.metadata.name, loaded.file]));
  const nodes = new Set(alerts.map((alert) => alert.target.node).filter((node) => node !== undefined));
  const context: MatchContext = { affectedNodes: options.affectedNodes ?? Math.max(1, nodes.size) };

  const plans: ResponsePlan[] = alerts.map((alert) =>
    planForSelection(alert, selectPlaybook(alert, playbooks, context), context),
  );
  if (options.json === true) {
    output.out(printableJson(JSON.stringify(plans, null, 2)));
  } else {
    output.out(plans.map((plan) => renderPlan(plan, files.get(plan.playbook.name))).join('\n\n'));
  }
  return testExitCode(plans, options.expect, output);
}

/** Reads and parses the alert file; returns the exit code instead when it cannot. */
async function readAlerts(
  alertFile: string,
  format: AlertFileFormat | undefined,
  output: CommandOutput,
): Promise<Alert[] | number> {
  try {
    return (await readAlertFile(alertFile, format)).alerts;
  } catch (error) {
    output.err(printable(`firebreak: cannot read alert file ${alertFile}: ${errorMessage(error)}`));
    return isMissingFile(error) ? exitUsage : exitProblem;
  }
}

function testExitCode(plans: readonly ResponsePlan[], expected: string | undefined, output: CommandOutput): number {
  let code = exitOk;
  for (const [index, plan] of plans.entries()) {
    const alert = `alert ${index + 1} (${plan.alert.rule})`;
    if (plan.playbook.usedDefault) {
      output.err(printable(`firebreak: ${alert}: no playbook in the directory claims it`));
      code = exitProblem;
    }
    if (expected !== undefined && plan.playbook.name !== expected) {
      output.err(printable(`firebreak: ${alert}: expected playbook ${expected}, got ${plan.playbook.name}`));
      code = exitProblem;
    }
  }
  return code;
}

function errorMessage(error: unknown): string {
  if (error instanceof AlertBodyError) {
    return error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
  }
  if (error instanceof z.ZodError) {
    return error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

/** Node's file errors carry a `code`; they are checked by shape because errors can come from another realm. */
function isMissingFile(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return code === 'ENOENT' || code === 'EISDIR';
}
