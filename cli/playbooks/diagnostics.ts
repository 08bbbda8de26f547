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
 * its suggestion, so a second error about the missing `evidence` would only repeat it.
 */
export function withoutTypoEchoes(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const unknownKeys = new Map<string, string[]>();
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      unknownKeys.set(JSON.stringify(issue.path), issue.keys);
    }
  }
  return issues.filter((issue) => {
    const field = issue.path.at(-1);
    if (issue.code !== 'invalid_type' || typeof field !== 'string') {
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
  let message = issue.message;
  if (issue.code === 'invalid_type' && !position.found) {
    const field = issue.path.at(-1);
    message = `missing required field ${JSON.stringify(String(field ?? ''))}; expected ${issue.expected}`;
  }
  return { level: 'error', file, ...lineAndColumn(position), path: formatFieldPath(issue.path), message };
}

function lineAndColumn(position: { line: number; column: number }): { line: number; column: number } {
  return { line: position.line, column: position.column };
}
