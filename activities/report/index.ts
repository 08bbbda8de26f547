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

export function reportPaths(reportDir: string, incidentId: string) {
  assertIncidentId(incidentId);
  const dir = path.join(reportDir, incidentId);
  return {
    dir,
    markdownPath: path.join(dir, 'report.md'),
    jsonPath: path.join(dir, 'report.json'),
    recordPath: path.join(dir, 'record.json'),
  };
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
    const paths = await writeReportFiles(reportDir, incidentId, report, record);
    return { markdownPath: paths.markdownPath, jsonPath: paths.jsonPath };
  }

  return { writeIncidentReport };
}

/** Writes the report files, each through a temporary file and a rename so a reader never sees half a file. */
export async function writeReportFiles(
  reportDir: string,
  incidentId: string,
  report: IncidentReport,
  record: IncidentRecord,
) {
  const paths = reportPaths(reportDir, incidentId);
  await mkdir(paths.dir, { recursive: true });
  await writeAtomically(paths.markdownPath, renderMarkdown(report));
  await writeAtomically(paths.jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  await writeAtomically(paths.recordPath, `${JSON.stringify(record, null, 2)}\n`);
  return paths;
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
