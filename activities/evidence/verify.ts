import { checkAnchor, checkHeadLog, type ChainAnchor } from './anchor';
import {
  computeEntrySha256,
  GENESIS_SHA256,
  parseManifest,
  sha256Hex,
  summarizeChain,
  type ManifestLine,
} from './custody';
import { assertSha256, hashStoredObject, isErrno, isStoreCorrupt, type EvidenceStore } from './store';

/** One mismatch found by verification, named by the artefact it concerns. */
export interface VerifyProblem {
  /** Artefact name, `(manifest)` for problems of the manifest as a whole, or `(head log)`. */
  artefact: string;
  lineNumber?: number;
  problem: string;
}

export interface VerifyResult {
  incidentId: string;
  manifestPath: string;
  entries: number;
  ok: boolean;
  problems: VerifyProblem[];
  /** `entrySha256` of the last entry (the SHA-256 of its text when it is not a valid entry). */
  headSha256?: string;
  /** Anchors the chain was compared with: `--head`, the incident record. The store's head log is not counted. */
  anchorsChecked: ChainAnchor[];
  /** Lines of the store's head log, each checked against the chain. */
  headLogLines: number;
}

export interface VerifyOptions {
  /** Chain heads recorded outside the store (the workflow history, the incident record); a different one fails. */
  anchors?: ChainAnchor[];
}

/** Re-reads every artefact of an incident and its custody chain, and lists every mismatch. */
export async function verifyIncidentEvidence(
  store: EvidenceStore,
  incidentId: string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const manifestPath = store.manifestLocation(incidentId);
  const problems: VerifyProblem[] = [];
  const manifest = await readUnlessCorrupt(() => store.readManifest(incidentId), '(manifest)', problems);
  const lines = parseManifest(manifest);
  if (lines.length === 0) {
    problems.push({ artefact: '(manifest)', problem: `no custody entries in ${manifestPath}` });
  }

  problems.push(...checkChain(lines, incidentId));
  problems.push(...(await checkObjects(store, lines)));

  const anchors = options.anchors ?? [];
  for (const anchor of anchors) {
    problems.push(...checkAnchor(lines, anchor).map((problem) => ({ artefact: '(manifest)', ...problem })));
  }
  const headLog = await readUnlessCorrupt(() => store.readHeadLog(incidentId), '(head log)', problems);
  problems.push(...checkHeadLog(lines, headLog).map((problem) => ({ artefact: '(head log)', ...problem })));

  return {
    incidentId,
    manifestPath,
    entries: lines.length,
    ok: problems.length === 0,
    problems,
    headSha256: summarizeChain(lines).headSha256,
    anchorsChecked: anchors,
    headLogLines: headLog.split('\n').filter((line) => line.trim() !== '').length,
  };
}

/**
 * Reads the manifest or the head log. A file that the store would not have written (a symbolic link, a FIFO, a
 * device) is recorded as a problem of `artefact` and read as empty, so verification goes on and fails.
 */
async function readUnlessCorrupt(
  read: () => Promise<string>,
  artefact: string,
  problems: VerifyProblem[],
): Promise<string> {
  try {
    return await read();
  } catch (error) {
    if (!isStoreCorrupt(error)) throw error;
    problems.push({ artefact, problem: `not trustworthy: ${error instanceof Error ? error.message : String(error)}` });
    return '';
  }
}

function lineName(line: ManifestLine): string {
  if ('entry' in line) return line.entry.name;
  return line.name ?? `(line ${line.lineNumber})`;
}

/** Checks each entry's own hash, its link to the entry before it, its sequence number and incident. */
function checkChain(lines: ManifestLine[], incidentId: string): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  let expectedPrev = GENESIS_SHA256;
  lines.forEach((line, index) => {
    const artefact = lineName(line);
    const at = { artefact, lineNumber: line.lineNumber };
    if (!('entry' in line)) {
      problems.push({ ...at, problem: `custody entry is unreadable: ${line.error}` });
      expectedPrev = sha256Hex(line.text);
      return;
    }
    const { entry } = line;
    const computed = computeEntrySha256(entry);
    if (computed !== entry.entrySha256) {
      problems.push({
        ...at,
        problem: `custody entry was altered: its content hashes to ${computed}, recorded ${entry.entrySha256}`,
      });
    }
    if (entry.prevSha256 !== expectedPrev) {
      problems.push({
        ...at,
        problem: `custody chain is broken: prevSha256 ${entry.prevSha256} does not match the entry before it (${expectedPrev})`,
      });
    }
    if (entry.seq !== index) {
      problems.push({
        ...at,
        problem: `custody entry has sequence ${entry.seq} at position ${index}: entries were removed or reordered`,
      });
    }
    if (entry.incidentId !== incidentId) {
      problems.push({ ...at, problem: `custody entry belongs to incident ${entry.incidentId}` });
    }
    expectedPrev = entry.entrySha256;
  });
  return problems;
}

/** Re-hashes every stored object that the manifest names; an object shared by entries is read once. */
async function checkObjects(store: EvidenceStore, lines: ManifestLine[]): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  const seen = new Map<string, { sha256: string; bytes: number } | string>();
  for (const line of lines) {
    if (!('entry' in line)) continue;
    const { entry } = line;
    const at = { artefact: entry.name, lineNumber: line.lineNumber };
    if (!seen.has(entry.sha256)) seen.set(entry.sha256, await rehash(store, entry.sha256));
    const actual = seen.get(entry.sha256);
    if (typeof actual === 'string') {
      problems.push({ ...at, problem: actual });
      continue;
    }
    if (actual === undefined) continue;
    if (actual.sha256 !== entry.sha256) {
      problems.push({
        ...at,
        problem: `stored bytes changed: they hash to ${actual.sha256}, recorded ${entry.sha256}`,
      });
    }
    if (actual.bytes !== entry.bytes) {
      problems.push({ ...at, problem: `stored object has ${actual.bytes} bytes, recorded ${entry.bytes}` });
    }
  }
  return problems;
}

/** Hash and size of a stored object, or the reason it could not be read. */
async function rehash(store: EvidenceStore, sha256: string): Promise<{ sha256: string; bytes: number } | string> {
  try {
    assertSha256(sha256);
    return await hashStoredObject(store, sha256);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return `stored object ${sha256} is missing`;
    if (isStoreCorrupt(error))
      return `stored object is not trustworthy: ${error instanceof Error ? error.message : ''}`;
    return `stored object could not be read: ${error instanceof Error ? error.message : String(error)}`;
  }
}
