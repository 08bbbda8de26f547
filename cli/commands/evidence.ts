import { Command, InvalidArgumentError } from 'commander';
import { lstat } from 'node:fs/promises';
import { custodyHeadOfRecord, type ChainAnchor } from '../../activities/evidence/anchor';
import { defaultEvidenceDir, isErrno, LocalEvidenceStore } from '../../activities/evidence/store';
import { readRegularText } from '../../activities/evidence/store-fs';
import { verifyIncidentEvidence, type VerifyResult } from '../../activities/evidence/verify';
import { defaultReportDir, reportPaths } from '../../activities/report';
import { printable, printableJson } from '../playbooks/terminal-text';

export interface CommandOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processOutput: CommandOutput = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

interface VerifyOptions {
  dir?: string;
  head?: string;
  entries?: number;
  reportDir?: string;
  runId?: string;
  json?: boolean;
}

/** Largest incident record read for its custody head; the workflow state behind it is far smaller. */
const MAX_RECORD_BYTES = 8 * 1024 * 1024;

function parseSha256(value: string): string {
  if (!/^[0-9a-f]{64}$/.test(value)) throw new InvalidArgumentError('expected 64 lowercase hex digits.');
  return value;
}

function parsePositiveInt(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a positive whole number.');
  return Number(value);
}

/**
 * Registers `firebreak evidence verify INCIDENT`: exit code 0 when every artefact and the custody chain
 * check out, 1 when anything does not (each problem is printed with its artefact name), 2 for usage errors.
 */
export function registerEvidenceCommands(program: Command, output: CommandOutput = processOutput): void {
  const evidence = program.command('evidence').description('Check the evidence captured for incidents');
  evidence
    .command('verify')
    .description(
      'Re-read every artefact of an incident and its chain of custody, and compare the chain with the head ' +
        'recorded at collection (--head, and evidence.custodyHeadSha256 in the incident record)',
    )
    .argument('<incident>', 'incident id, for example incident-3f2a9c0d1b7e4a55')
    .option('--dir <dir>', 'evidence store directory (default: FIREBREAK_EVIDENCE_DIR or .data/evidence)')
    .option('--head <sha256>', 'custody chain head recorded by the workflow; a different head fails', parseSha256)
    .option('--entries <count>', 'number of custody entries recorded with --head', parsePositiveInt)
    .option(
      '--report-dir <dir>',
      'report directory whose INCIDENT/record.json holds the recorded head (default: FIREBREAK_REPORT_DIR or .data/reports)',
    )
    .option(
      '--run-id <id>',
      'run of the incident whose record.json to read (default: the latest run that wrote a report)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (incidentId: string, options: VerifyOptions) => {
      process.exitCode = await verifyCommand(incidentId, options, output);
    });
}

/** Returns the heads to compare the chain with: `--head`, and the incident record written with the report. */
async function recordedAnchors(incidentId: string, options: VerifyOptions): Promise<ChainAnchor[]> {
  if (options.entries !== undefined && options.head === undefined) {
    throw new Error('--entries needs --head: give the head that was recorded with that entry count');
  }
  const anchors: ChainAnchor[] = [];
  if (options.head !== undefined) {
    anchors.push({ headSha256: options.head, entryCount: options.entries, source: '--head' });
  }
  const { recordPath } = reportPaths(options.reportDir ?? defaultReportDir(), incidentId, options.runId);
  const text = await readRecord(recordPath);
  if (text === undefined) return anchors;
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`could not parse the incident record ${recordPath}: ${reason}`, { cause: error });
  }
  const head = custodyHeadOfRecord(record);
  if (head) {
    anchors.push({ headSha256: head.custodyHeadSha256, entryCount: head.custodyEntryCount, source: recordPath });
  }
  return anchors;
}

/**
 * Reads the incident record, or returns undefined when there is none. Anything but a regular file (a symbolic
 * link, a FIFO, a device) and a file over MAX_RECORD_BYTES are rejected, so the record cannot stall or flood verify.
 */
async function readRecord(recordPath: string): Promise<string | undefined> {
  try {
    const info = await lstat(recordPath);
    if (!info.isFile()) {
      throw new Error(`${recordPath} is not a regular file: replace it with the record the report wrote, or remove it`);
    }
    return await readRegularText(recordPath, MAX_RECORD_BYTES);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`could not read the incident record ${recordPath}: ${reason}`, { cause: error });
  }
}

export async function verifyCommand(
  incidentId: string,
  options: VerifyOptions,
  output: CommandOutput,
): Promise<number> {
  const store = new LocalEvidenceStore(options.dir ?? defaultEvidenceDir());
  let result: VerifyResult;
  try {
    const anchors = await recordedAnchors(incidentId, options);
    result = await verifyIncidentEvidence(store, incidentId, { anchors });
  } catch (error) {
    output.err(`firebreak evidence verify: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }

  if (options.json) {
    output.out(printableJson(JSON.stringify(result, null, 2)));
  } else if (result.ok) {
    output.out(
      `${incidentId}: verified ${result.entries} custody entries in ${result.manifestPath}; every artefact matches its hash`,
    );
    output.out(describeAnchors(result));
  } else {
    for (const problem of result.problems) {
      const line =
        problem.lineNumber === undefined ? '' : ` (${problemFile(problem.artefact)} line ${problem.lineNumber})`;
      output.out(`MISMATCH ${printable(problem.artefact)}${printable(line)}: ${printable(problem.problem)}`);
    }
    output.err(
      `${incidentId}: verification failed with ${result.problems.length} problem(s) in ${result.manifestPath}`,
    );
  }
  return result.ok ? 0 : 1;
}

const problemFile = (artefact: string) => (artefact === '(head log)' ? 'head log' : 'manifest');

function describeAnchors(result: VerifyResult): string {
  const head = `chain head ${result.headSha256 ?? 'none'}`;
  if (result.anchorsChecked.length === 0) {
    return (
      `WARNING: ${head} was checked against the store's head log only (${result.headLogLines} lines), which ` +
      'whoever can write the store can rewrite: pass --head, or --report-dir with the incident record'
    );
  }
  return `${head} matches the head recorded in ${result.anchorsChecked.map((anchor) => anchor.source).join(' and ')}`;
}
