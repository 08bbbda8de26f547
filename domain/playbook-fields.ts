import { z } from 'zod';
import { InvalidDurationError, durationPattern, formatDurationMs, parseDurationMs } from './duration';

/**
 * Building blocks of the playbook schema: strict objects whose unknown-field errors list the allowed
 * fields, duration strings, and Kubernetes names.
 */

/** Creates a strict object whose unknown-field error names the closest allowed field. */
export function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const allowed = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? unknownFieldMessage(issue.keys, allowed) : undefined),
  });
}

function unknownFieldMessage(keys: readonly string[], allowed: readonly string[]): string {
  const parts = keys.map((key) => {
    const suggestion = closestName(key, allowed);
    return suggestion ? `unknown field "${key}" (did you mean "${suggestion}"?)` : `unknown field "${key}"`;
  });
  return `${parts.join(', ')}; expected one of: ${allowed.join(', ')}`;
}

/** Returns the allowed name within edit distance 2 of the key, or a case-insensitive equal one. */
export function closestName(key: string, allowed: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of allowed) {
    const distance = name.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, name);
    if (distance <= 2 && (best === undefined || distance < best.distance)) {
      best = { name, distance };
    }
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Maximum of every playbook duration: 365 days. Fields with a lower maximum check it as well. */
export const maxPlaybookDurationMs = 365 * 86_400_000;

function invalidDurationMessage(value: unknown): string {
  try {
    parseDurationMs(String(value));
  } catch (error) {
    if (error instanceof InvalidDurationError) {
      return error.message;
    }
  }
  return `invalid duration ${JSON.stringify(value)}`;
}

function checkDurationMaximum(value: string, context: z.core.$RefinementCtx<string>): void {
  if (durationPattern.test(value) && !withinPlaybookMaximum(value)) {
    const maximum = formatDurationMs(maxPlaybookDurationMs);
    context.addIssue({ code: 'custom', message: `duration ${value} is longer than the maximum of ${maximum}` });
  }
}

/** Returns true when a duration with valid syntax is at most maxPlaybookDurationMs. */
function withinPlaybookMaximum(value: string): boolean {
  try {
    return parseDurationMs(value) <= maxPlaybookDurationMs;
  } catch {
    return false; // Too large to count in milliseconds.
  }
}

/** A duration string such as `30s`, `5m`, `4h` or `1d`, each unit once and the largest first. */
export const durationSchema = z
  .string()
  .regex(durationPattern, { error: (issue) => invalidDurationMessage(issue.input) })
  .superRefine(checkDurationMaximum)
  .meta({ id: 'Duration', description: 'Duration such as 30s, 5m, 4h, 1d or 1h30m; each unit once, largest first.' });

/**
 * Returns why a valid duration of a field is outside its limits, with the value and the limit, or undefined
 * when it is within them. A value that the duration schema rejects (bad syntax, or beyond 365 days) is left
 * to that schema's error, so each mistake is reported once.
 */
export function durationLimitProblem(
  field: string,
  value: string,
  minimumMs: number,
  maximumMs: number,
): string | undefined {
  if (!durationPattern.test(value) || !withinPlaybookMaximum(value)) {
    return undefined;
  }
  const durationMs = parseDurationMs(value);
  if (durationMs < minimumMs) {
    return minimumMs === 1
      ? `${field} ${value} must be longer than zero`
      : `${field} ${value} is shorter than the minimum of ${formatDurationMs(minimumMs)}`;
  }
  if (durationMs > maximumMs) {
    return `${field} ${value} is longer than the maximum of ${formatDurationMs(maximumMs)}`;
  }
  return undefined;
}

/** Kubernetes namespace name (RFC 1123 label). */
export const namespaceNameSchema = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'invalid namespace name: expected an RFC 1123 label' })
  .max(63);

/** Kubernetes label key, with an optional DNS prefix. */
export const labelKeySchema = z
  .string()
  .regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, {
    error: (issue) => `invalid label key ${JSON.stringify(issue.input)}: expected a Kubernetes label key`,
  })
  .max(317);

/** Returns the first duplicate in a list, for "listed twice" errors. */
export function firstDuplicate<T>(values: readonly T[]): { value: T; index: number } | undefined {
  const seen = new Set<T>();
  for (const [index, value] of values.entries()) {
    if (seen.has(value)) {
      return { value, index };
    }
    seen.add(value);
  }
  return undefined;
}
