import { z } from 'zod';
import { durationPattern, isValidDuration } from './duration';

/**
 * Building blocks of the playbook schema: strict objects whose unknown-field errors list the allowed
 * fields, duration strings, and matchers that are either an exact value or a `/regex/flags` pattern.
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

/** A duration string such as `30s`, `5m`, `4h` or `1d`. */
export const durationSchema = z
  .string()
  .regex(durationPattern, {
    error: (issue) =>
      `invalid duration ${JSON.stringify(issue.input)}: expected whole numbers with a unit (ms, s, m, h, d), for example 30s, 5m, 4h or 1h30m`,
  })
  .refine((value) => !durationPattern.test(value) || isValidDuration(value), { error: 'duration is too long' })
  .meta({ id: 'Duration', description: 'Duration such as 30s, 5m, 4h, 1d or 1h30m.' });

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

export type ParsedMatcher = { kind: 'exact'; value: string } | { kind: 'pattern'; source: string; flags: string };

const patternSyntax = /^\/(.+)\/([dgimsuvy]*)$/s;
const allowedFlags = new Set(['i', 'm', 's', 'u']);
const maxPatternLength = 512;

/**
 * Splits a matcher into an exact value or a pattern. A value is a pattern when it has the form
 * `/source/flags` with JavaScript regex flags. `/etc/shadow` is exact because `shadow` is not a set of flags.
 */
export function parseMatcher(text: string): ParsedMatcher {
  const match = patternSyntax.exec(text);
  const source = match?.[1];
  if (match === null || source === undefined) {
    return { kind: 'exact', value: text };
  }
  return { kind: 'pattern', source, flags: match[2] ?? '' };
}

/** Returns why a pattern matcher is not allowed, or undefined when it compiles and is accepted. */
export function patternProblem(source: string, flags: string): string | undefined {
  const badFlags = [...flags].filter((flag) => !allowedFlags.has(flag));
  if (badFlags.length > 0) {
    return `flag "${badFlags.join('')}" is not allowed; use only i, m, s or u`;
  }
  if (source.length > maxPatternLength) {
    return `pattern is longer than ${maxPatternLength} characters`;
  }
  try {
    new RegExp(source, flags);
  } catch (error) {
    return `pattern does not compile: ${error instanceof Error ? error.message : String(error)}`;
  }
  // Alert text is attacker-controlled, so a quantified group that itself repeats could backtrack for a
  // very long time. NOTE: this is a heuristic that catches the common `(a+)+` shapes, not every slow pattern.
  if (/\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)(?:[+*]|\{\d*,)/.test(source)) {
    return 'pattern repeats a group that itself repeats, which can backtrack for a very long time; simplify it';
  }
  return undefined;
}

/** A rule or field matcher: an exact value, or `/regex/` with optional flags i, m, s, u. */
export const matcherSchema = z
  .string()
  .min(1)
  .superRefine((text, context) => {
    const parsed = parseMatcher(text);
    const problem = parsed.kind === 'pattern' ? patternProblem(parsed.source, parsed.flags) : undefined;
    if (problem !== undefined) {
      context.addIssue({ code: 'custom', message: `invalid pattern ${text}: ${problem}` });
    }
  })
  .meta({ id: 'Matcher', description: 'Exact value, or /regex/ with optional flags i, m, s, u.' });

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
