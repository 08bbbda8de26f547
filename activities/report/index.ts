import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { incidentRecordSchema, type IncidentRecord } from '../../domain/response';
import { custodyHeadOfRecord, type RecordCustodyHead } from '../evidence/anchor';
import { parseManifest, summarizeChain } from '../evidence/custody';
import { assertIncidentId, type EvidenceStore } from '../evidence/store';
import { verifyIncidentEvidence } from '../evidence/verify';
import { renderMarkdown } from './markdown';
import { buildIncidentReport, type EvidenceContext, type IncidentReport } from './report';

export const writeIncidentReportInputSchema = z.object({ incidentId: z.string().min(1), record: incidentRecordSchema });

export interface ReportDeps {
  /** Folder that receives `INCIDENT/report.md`, `report.json` and `record.json`. */
  reportDir?: string;
  /** Evidence store of the incident, for the full evidence table, its verification and hardening findings. */
  store?: EvidenceStore;
}

/** Returns the report folder: `FIREBREAK_REPORT_DIR`, else `.data/reports` under the working directory. */
export function defaultReportDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.FIREBREAK_REPORT_DIR || '.data/reports');
}

/** Temporal run ids are UUIDs; anything else could leave the report folder as a path. */
const runIdPattern = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Returns the report files of an incident. Each run of the workflow id has its own folder,
 * `INCIDENT/runs/RUN/`, because a later incident with the same id starts a new run. `INCIDENT/` itself
 * contains a copy of the latest report, which is what the CLI reads when no run id is given.
 */
export function reportPaths(reportDir: string, incidentId: string, runId?: string) {
  assertIncidentId(incidentId);
  if (runId !== undefined && !runIdPattern.test(runId)) {
    throw new Error(`invalid run id ${JSON.stringify(runId)}: expected the Temporal run id, a UUID`);
  }
  const incidentDir = path.join(reportDir, incidentId);
  const dir = runId === undefined ? incidentDir : path.join(incidentDir, 'runs', runId);
  return {
    dir,
    markdownPath: path.join(dir, 'report.md'),
    jsonPath: path.join(dir, 'report.json'),
    recordPath: path.join(dir, 'record.json'),
  };
}

/** Returns the report folder that contains a report path returned by `writeIncidentReport`. */
export function reportDirOf(markdownPath: string): string {
  const incidentOrRunDir = path.dirname(markdownPath);
  const parent = path.dirname(incidentOrRunDir);
  return path.basename(parent) === 'runs' ? path.dirname(path.dirname(parent)) : parent;
}

/** Returns the run id of the activity's workflow, or undefined outside an activity (as in the CLI). */
function currentRunId(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.runId;
  } catch {
    return undefined;
  }
}

/** Builds the report activity `writeIncidentReport`. */
export function createReportActivities(deps: ReportDeps = {}) {
  const reportDir = deps.reportDir ?? defaultReportDir();

  /**
   * Writes the incident report as Markdown and JSON, plus the record it was built from. The custody head that
   * the workflow recorded (`evidence.custodyHeadSha256`, `evidence.custodyEntryCount`) is kept in
   * `record.json`, where `firebreak evidence verify` reads it, and the store's chain is checked against it.
   */
  async function writeIncidentReport(input: unknown): Promise<{ markdownPath: string; jsonPath: string }> {
    const parsed = writeIncidentReportInputSchema.safeParse(input);
    if (!parsed.success) {
      throw ApplicationFailure.create({
        message: `writeIncidentReport received an invalid record: ${z.prettifyError(parsed.error)}`,
        type: 'ReportInvalidInput',
        nonRetryable: true,
      });
    }
    const { incidentId, record } = parsed.data;
    const custodyHead = custodyHeadOfRecord(record);
    const evidence = deps.store ? await loadEvidenceContext(deps.store, incidentId, custodyHead) : undefined;
    const report = buildIncidentReport(record, evidence);
    const paths = await writeReportFiles(reportDir, incidentId, report, record, currentRunId());
    return { markdownPath: paths.markdownPath, jsonPath: paths.jsonPath };
  }

  return { writeIncidentReport };
}

/**
 * Writes the report files of the run, then the same files as the incident's latest report, each through a
 * temporary file and a rename so a reader never sees half a file. Returns the run's paths, or the latest
 * paths when there is no run id.
 */
export async function writeReportFiles(
  reportDir: string,
  incidentId: string,
  report: IncidentReport,
  record: IncidentRecord,
  runId?: string,
) {
  const runPaths = reportPaths(reportDir, incidentId, runId);
  const latestPaths = reportPaths(reportDir, incidentId);
  const files = [runPaths, ...(runId === undefined ? [] : [latestPaths])];
  for (const paths of files) {
    await mkdir(paths.dir, { recursive: true });
    await writeAtomically(paths.markdownPath, renderMarkdown(report));
    await writeAtomically(paths.jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    await writeAtomically(paths.recordPath, `${JSON.stringify(record, null, 2)}\n`);
  }
  return runPaths;
}

async function writeAtomically(filePath: string, text: string): Promise<void> {
  const tmpPath = `${filePath}.${process.pid}.tmp`;
  await writeFile(tmpPath, text, 'utf8');
  await rename(tmpPath, filePath);
}

/**
 * Reads an incident's custody entries, their verification and the captured pod object from the store. The
 * chain is compared with `recordedHead` when the record carries one. The pod's redacted copy is preferred, so
 * secrets kept in raw evidence never reach a report.
 */
export async function loadEvidenceContext(
  store: EvidenceStore,
  incidentId: string,
  recordedHead?: RecordCustodyHead,
): Promise<EvidenceContext> {
  const lines = parseManifest(await store.readManifest(incidentId));
  const entries = lines.flatMap((line) => ('entry' in line ? [line.entry] : []));
  const anchors = recordedHead
    ? [
        {
          headSha256: recordedHead.custodyHeadSha256,
          entryCount: recordedHead.custodyEntryCount,
          source: 'the incident record',
        },
      ]
    : [];
  const verification = lines.length > 0 ? await verifyIncidentEvidence(store, incidentId, { anchors }) : undefined;
  const latest = (name: string) => [...entries].reverse().find((entry) => entry.name === name);
  const podEntry = latest('objects/pod.redacted') ?? latest('objects/pod');
  const pod = podEntry ? await readJsonObject(store, podEntry.sha256) : undefined;
  return {
    manifestPath: store.manifestLocation(incidentId),
    entries,
    verification,
    chain: summarizeChain(lines),
    recordedHead,
    verifiedAgainstRecordedHead: verification !== undefined && anchors.length > 0,
    pod,
  };
}

async function readJsonObject(store: EvidenceStore, sha256: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of store.read(sha256))
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Reads a record written beside an earlier report, with its custody head, for rebuilding the report from the CLI. */
export async function readStoredRecord(
  recordPath: string,
): Promise<{ record: IncidentRecord; custodyHead?: RecordCustodyHead }> {
  const json: unknown = JSON.parse(await readFile(recordPath, 'utf8'));
  return { record: incidentRecordSchema.parse(json), custodyHead: custodyHeadOfRecord(json) };
}

export { buildIncidentReport } from './report';
export { renderMarkdown } from './markdown';
export type { IncidentReport } from './report';
