import type { z } from 'zod';
import { closestName } from '../../domain/playbook-fields';
import type { YamlLocator } from './yaml-locations';

/** Validation findings with the file, line, column and field path that they concern. */

export interface PlaybookDiagnostic {
  level: 'error' | 'warning';
  file: string;
  line: number;
  column: number;
  /** Field path such as `gates.isolate.P1.deadline`; empty for the whole file. */
  path: string;
  message: string;
}

/** Formats a field path: `gates.isolate.P1`, `containment[2].action`, `match.fields["proc.cmdline"]`. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      text += `[${segment}]`;
    } else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(segment))) {
      text += text === '' ? String(segment) : `.${String(segment)}`;
    } else {
      text += `[${JSON.stringify(String(segment))}]`;
    }
  }
  return text;
}

/** Formats a diagnostic as `file:line:column: level: path: message`, the form editors and CI annotations read. */
export function formatDiagnostic(diagnostic: PlaybookDiagnostic): string {
  const where = `${diagnostic.file}:${diagnostic.line}:${diagnostic.column}`;
  const path = diagnostic.path === '' ? '' : `${diagnostic.path}: `;
  return `${where}: ${diagnostic.level}: ${path}${diagnostic.message}`;
}

/**
 * Drops "missing field" issues that a misspelt sibling explains: `evidense` reports the unknown field with
 * its suggestion, so a second error about the missing `evidence` would only repeat it. Only fields that are
 * absent from the file count, whatever type the schema expected there.
 */
export function withoutTypoEchoes(issues: readonly z.core.$ZodIssue[], locator: YamlLocator): z.core.$ZodIssue[] {
  const unknownKeys = new Map<string, string[]>();
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      unknownKeys.set(JSON.stringify(issue.path), issue.keys);
    }
  }
  return issues.filter((issue) => {
    const field = issue.path.at(-1);
    if (issue.code === 'unrecognized_keys' || typeof field !== 'string' || locator.locate(issue.path).found) {
      return true;
    }
    const siblings = unknownKeys.get(JSON.stringify(issue.path.slice(0, -1))) ?? [];
    return !siblings.some((key) => closestName(key, [field]) === field);
  });
}

/** Converts one zod issue into a diagnostic placed at the field it concerns. */
export function diagnosticFromIssue(issue: z.core.$ZodIssue, file: string, locator: YamlLocator): PlaybookDiagnostic {
  if (issue.code === 'unrecognized_keys') {
    const keyPath = [...issue.path, issue.keys[0] ?? ''];
    const position = locator.locateKey(keyPath);
    return { level: 'error', file, ...lineAndColumn(position), path: formatFieldPath(keyPath), message: issue.message };
  }

  const position = locator.locate(issue.path);
  const missing = position.found ? undefined : missingFieldMessage(issue);
  const message = missing ?? issue.message;
  return { level: 'error', file, ...lineAndColumn(position), path: formatFieldPath(issue.path), message };
}

/** Rewords a type or value issue about a field that the file does not set as a missing field. */
function missingFieldMessage(issue: z.core.$ZodIssue): string | undefined {
  const field = JSON.stringify(String(issue.path.at(-1) ?? ''));
  if (issue.code === 'invalid_type') {
    return `missing required field ${field}; expected ${issue.expected}`;
  }
  if (issue.code === 'invalid_value') {
    const values = issue.values.map((value) => JSON.stringify(value));
    const expected = values.length === 1 ? values[0] : `one of ${values.join(', ')}`;
    return `missing required field ${field}; expected ${expected}`;
  }
  return undefined;
}

function lineAndColumn(position: { line: number; column: number }): { line: number; column: number } {
  return { line: position.line, column: position.column };
}
