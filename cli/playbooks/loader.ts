import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { playbookSchema, type Playbook } from '../../domain/playbook';
import { describeMatch } from '../../domain/playbook-match';
import { findOverlaps } from '../../domain/playbook-overlap';
import { playbookWarnings } from '../../domain/playbook-warnings';
import {
  diagnosticFromIssue,
  formatDiagnostic,
  formatFieldPath,
  withoutTypoEchoes,
  type PlaybookDiagnostic,
} from './diagnostics';
import { findInvalidUtf8 } from './utf8';
import { yamlDialectProblems } from './yaml-dialect';
import { YamlLocator } from './yaml-locations';

/**
 * Reads playbook YAML files and validates them, one playbook per file. Every finding names the file, the
 * line and column, and the field path, so a person can fix it without guessing.
 */

export interface LoadedPlaybook {
  file: string;
  playbook: Playbook;
  locator: YamlLocator;
}

export interface PlaybookLoadResult {
  playbooks: LoadedPlaybook[];
  diagnostics: PlaybookDiagnostic[];
}

/** Raised by loadPlaybooks when a playbook directory has errors; the message lists each one. */
export class PlaybookLoadError extends Error {
  constructor(readonly diagnostics: PlaybookDiagnostic[]) {
    super(`invalid playbooks:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
    this.name = 'PlaybookLoadError';
  }
}

/** Larger playbook files are rejected before parsing. */
export const maxPlaybookFileBytes = 1024 * 1024;
/** YAML aliases beyond this count are rejected, so an alias bomb cannot exhaust memory. */
const maxAliasCount = 100;

/** Parses and validates the text of one playbook file. */
export function parsePlaybookText(
  text: string,
  file: string,
): { loaded?: LoadedPlaybook; diagnostics: PlaybookDiagnostic[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locator = new YamlLocator(document, lineCounter);

  if (document.errors.length > 0) {
    return { diagnostics: document.errors.map((error) => yamlDiagnostic(error, file, locator)) };
  }
  const dialectProblems = yamlDialectProblems(document, text);
  if (dialectProblems.length > 0) {
    return {
      diagnostics: dialectProblems.map(({ offset, message }) =>
        fileDiagnostic(file, message, locator.position(offset, true)),
      ),
    };
  }
  if (document.contents === null) {
    const message = 'file is empty; expected a playbook starting with apiVersion: firebreak.dev/v1 and kind: Playbook';
    return { diagnostics: [fileDiagnostic(file, message)] };
  }

  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount });
  } catch (error) {
    return { diagnostics: [fileDiagnostic(file, `cannot read the YAML: ${errorText(error)}`)] };
  }

  const result = playbookSchema.safeParse(data);
  if (!result.success) {
    const issues = withoutTypoEchoes(result.error.issues, locator);
    return { diagnostics: issues.map((issue) => diagnosticFromIssue(issue, file, locator)) };
  }

  const loaded = { file, playbook: result.data, locator };
  return { loaded, diagnostics: warningsFor(loaded) };
}

/** Builds an error about a whole file, or about one position in it. */
function fileDiagnostic(
  file: string,
  message: string,
  position: { line: number; column: number } = { line: 1, column: 1 },
): PlaybookDiagnostic {
  return { level: 'error', file, line: position.line, column: position.column, path: '', message };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function yamlDiagnostic(error: YAMLError, file: string, locator: YamlLocator): PlaybookDiagnostic {
  const position = locator.position(error.pos[0], true);
  const message =
    error.code === 'MULTIPLE_DOCS'
      ? 'the file holds more than one YAML document; put each playbook in its own file'
      : `invalid YAML (${error.code}): ${error.message}`;
  return { level: 'error', file, line: position.line, column: position.column, path: '', message };
}

function warningsFor(loaded: LoadedPlaybook): PlaybookDiagnostic[] {
  const warnings = playbookWarnings(loaded.playbook).map((warning) => at(loaded, warning.path, warning.message));
  const baseName = path.basename(loaded.file).replace(/\.ya?ml$/, '');
  const name = loaded.playbook.metadata.name;
  if (baseName !== name) {
    warnings.push(at(loaded, ['metadata', 'name'], `name ${name} differs from the file name ${baseName}`));
  }
  return warnings;
}

function at(
  loaded: LoadedPlaybook,
  fieldPath: (string | number)[],
  message: string,
  level: PlaybookDiagnostic['level'] = 'warning',
): PlaybookDiagnostic {
  const { line, column } = loaded.locator.locate(fieldPath);
  return { level, file: loaded.file, line, column, path: formatFieldPath(fieldPath), message };
}

/** Reads and validates one playbook file; a file that cannot be read is an error about that file. */
export async function loadPlaybookFile(
  file: string,
): Promise<{ loaded?: LoadedPlaybook; diagnostics: PlaybookDiagnostic[] }> {
  let bytes: Buffer;
  try {
    const { size } = await stat(file);
    if (size > maxPlaybookFileBytes) {
      const message = `file is ${size} bytes, more than the maximum of ${maxPlaybookFileBytes}`;
      return { diagnostics: [fileDiagnostic(file, message)] };
    }
    bytes = await readFile(file);
  } catch (error) {
    return { diagnostics: [fileDiagnostic(file, unreadableFileMessage(error))] };
  }

  const invalid = findInvalidUtf8(bytes);
  if (invalid !== undefined) {
    const byte = `0x${invalid.byte.toString(16).padStart(2, '0')}`;
    const message = `file is not valid UTF-8: byte ${byte} at byte offset ${invalid.offset}; save the file as UTF-8`;
    return { diagnostics: [fileDiagnostic(file, message, invalid)] };
  }
  return parsePlaybookText(bytes.toString('utf8'), file);
}

/** Describes why a playbook file could not be read, in words for the common link and permission errors. */
function unreadableFileMessage(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  switch (code) {
    case 'ENOENT':
      return 'cannot read the file: it is a symbolic link whose target does not exist (ENOENT)';
    case 'ELOOP':
      return 'cannot read the file: it is a symbolic link that loops back on itself (ELOOP)';
    case 'EACCES':
      return 'cannot read the file: permission denied (EACCES)';
    default:
      return `cannot read the file: ${errorText(error)}`;
  }
}

/**
 * Reads every `*.yaml` and `*.yml` file of a directory (not its subdirectories), validates each, then
 * checks the set: unique names, and no two playbooks claiming the same alerts at the same specificity.
 * A file that cannot be read (a dangling or looping link, no permission) is an error about that file.
 */
export async function loadPlaybookDirectory(directory: string): Promise<PlaybookLoadResult> {
  const files = await playbookFiles(directory);

  const playbooks: LoadedPlaybook[] = [];
  const diagnostics: PlaybookDiagnostic[] = [];
  for (const file of files) {
    const result = await loadPlaybookFile(file);
    diagnostics.push(...result.diagnostics);
    if (result.loaded !== undefined) {
      playbooks.push(result.loaded);
    }
  }

  if (files.length === 0) {
    diagnostics.push(fileDiagnostic(directory, 'no playbook files (*.yaml or *.yml) in this directory'));
  }
  diagnostics.push(...checkPlaybookSet(playbooks));
  return { playbooks, diagnostics };
}

/**
 * Lists the YAML files of a directory, sorted. Symbolic links count, because a Kubernetes ConfigMap volume
 * presents its keys as links. Hidden entries such as the volume's `..data` are skipped, and so are links to
 * directories. A link that cannot be followed stays in the list, so loading reports it as that file's error.
 */
async function playbookFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.') || !/\.ya?ml$/.test(entry.name)) {
      continue;
    }
    const file = path.join(directory, entry.name);
    if (entry.isFile() || (entry.isSymbolicLink() && (await isFileOrBrokenLink(file)))) {
      files.push(file);
    }
  }
  return files.sort();
}

async function isFileOrBrokenLink(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return true;
  }
}

/** Checks a set of valid playbooks for duplicate names and overlapping matches. */
export function checkPlaybookSet(playbooks: readonly LoadedPlaybook[]): PlaybookDiagnostic[] {
  const diagnostics: PlaybookDiagnostic[] = [];
  const byName = new Map<string, LoadedPlaybook>();
  for (const loaded of playbooks) {
    const name = loaded.playbook.metadata.name;
    const first = byName.get(name);
    if (first === undefined) {
      byName.set(name, loaded);
      continue;
    }
    const message = `playbook name ${name} is already used by ${place(first, ['metadata', 'name'])}; names must be unique`;
    diagnostics.push(at(loaded, ['metadata', 'name'], message, 'error'));
  }

  const byPlaybook = new Map(playbooks.map((loaded) => [loaded.playbook, loaded]));
  for (const overlap of findOverlaps(playbooks.map((loaded) => loaded.playbook))) {
    const first = byPlaybook.get(overlap.first);
    const second = byPlaybook.get(overlap.second);
    if (first === undefined || second === undefined) {
      continue;
    }
    diagnostics.push(overlapDiagnostic(first, second, overlap.example));
    diagnostics.push(overlapDiagnostic(second, first, overlap.example));
  }
  return diagnostics;
}

function overlapDiagnostic(loaded: LoadedPlaybook, other: LoadedPlaybook, example: string): PlaybookDiagnostic {
  const message =
    `match overlaps playbook ${other.playbook.metadata.name} (${place(other, ['match'])}): both claim ${example} ` +
    `with the same specificity (${describeMatch(loaded.playbook.match)}); make one match narrower, ` +
    'for example with namespaces, labels or a more exact rule list';
  return at(loaded, ['match'], message, 'error');
}

function place(loaded: LoadedPlaybook, fieldPath: (string | number)[]): string {
  const { line, column } = loaded.locator.locate(fieldPath);
  return `${loaded.file}:${line}:${column}`;
}

/** Loads a playbook directory for a server process; raises PlaybookLoadError when any error is found. */
export async function loadPlaybooks(directory: string): Promise<Playbook[]> {
  const result = await loadPlaybookDirectory(directory);
  const errors = result.diagnostics.filter((diagnostic) => diagnostic.level === 'error');
  if (errors.length > 0) {
    throw new PlaybookLoadError(errors);
  }
  return result.playbooks.map((loaded) => loaded.playbook);
}

export { formatDiagnostic, type PlaybookDiagnostic } from './diagnostics';
