import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import {
  buildIncidentReport,
  defaultReportDir,
  loadEvidenceContext,
  readStoredRecord,
  renderMarkdown,
  reportPaths,
} from '../../activities/report';
import { defaultEvidenceDir, LocalEvidenceStore } from '../../activities/evidence/store';
import { printableJson } from '../playbooks/terminal-text';
import type { CommandOutput } from './evidence';

const processOutput: CommandOutput = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

interface ReportOptions {
  out?: string;
  format: 'md' | 'json';
  reportDir?: string;
  record?: string;
  evidenceDir?: string;
  runId?: string;
}

/**
 * Registers `firebreak report INCIDENT`: prints (or writes with --out) the report that the workflow wrote,
 * or builds it again from a record JSON with --record, or when only the stored record is left.
 */
export function registerReportCommands(program: Command, output: CommandOutput = processOutput): void {
  program
    .command('report')
    .description('Print or write the incident report, as Markdown or JSON')
    .argument('<incident>', 'incident id, for example incident-3f2a9c0d1b7e4a55')
    .option('--out <file>', 'write the report to this file instead of standard output')
    .addOption(new Option('--format <format>', 'report format').choices(['md', 'json']).default('md'))
    .option('--report-dir <dir>', 'report directory (default: FIREBREAK_REPORT_DIR or .data/reports)')
    .option('--run-id <id>', 'report of this run of the incident id (default: the latest run that wrote a report)')
    .option('--record <file>', 'build the report from this IncidentRecord JSON instead of reading the written one')
    .option(
      '--evidence-dir <dir>',
      'evidence store for the evidence table (default: FIREBREAK_EVIDENCE_DIR or .data/evidence)',
    )
    .action(async (incidentId: string, options: ReportOptions) => {
      process.exitCode = await reportCommand(incidentId, options, output);
    });
}

export async function reportCommand(
  incidentId: string,
  options: ReportOptions,
  output: CommandOutput,
): Promise<number> {
  try {
    const text = await reportText(incidentId, options);
    if (options.out) await writeFile(options.out, text.endsWith('\n') ? text : `${text}\n`);
    // Markdown is escaped when built; C1 and bidi characters that JSON keeps raw are escaped for the terminal.
    else output.out(printableJson(text.trimEnd()));
    return 0;
  } catch (error) {
    output.err(`firebreak report: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

async function reportText(incidentId: string, options: ReportOptions): Promise<string> {
  const paths = reportPaths(options.reportDir ?? defaultReportDir(), incidentId, options.runId);
  const written = options.format === 'json' ? paths.jsonPath : paths.markdownPath;
  if (!options.record && existsSync(written)) return readFile(written, 'utf8');

  const recordPath = options.record ?? paths.recordPath;
  if (!existsSync(recordPath)) {
    throw new Error(
      `no report for ${incidentId} in ${paths.dir} and no record at ${recordPath}: pass --record FILE or --report-dir`,
    );
  }
  const { record, custodyHead } = await readStoredRecord(recordPath);
  const store = new LocalEvidenceStore(options.evidenceDir ?? defaultEvidenceDir());
  const report = buildIncidentReport(record, await loadEvidenceContext(store, record.incidentId, custodyHead));
  return options.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report);
}
