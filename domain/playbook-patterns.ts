import { RE2JS } from 're2js';
import { z } from 'zod';
import { strictObject } from './playbook-fields';

/**
 * Matchers for rule names and sender fields: a plain string is an exact value, and `{ regex, flags }` is a
 * regular expression in RE2 syntax. Alert text is chosen by the attacker, so patterns run on RE2JS, whose
 * matching time grows linearly with the text, never on the backtracking JavaScript engine.
 */

/** Maximum length of a regex in a playbook, in characters. */
export const maxPatternLength = 512;
/** Attacker-controlled text is cut to this length before a pattern is tested on it. */
export const maxMatchedTextLength = 4096;

const flagBits = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL } as const;
const flagsPattern = /^(?!.*(.).*\1)[ims]{1,3}$/;

const re2Note = 'Firebreak uses RE2 syntax, which has no backreferences (\\1) and no lookahead or lookbehind';

/** Returns why a regex is not allowed, or undefined when RE2 compiles it. */
export function regexProblem(source: string, flags = ''): string | undefined {
  if (source.length > maxPatternLength) {
    return `regex is ${source.length} characters, longer than the maximum of ${maxPatternLength}`;
  }
  try {
    compiledPattern(source, flags);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `invalid regex ${JSON.stringify(source)}: ${reason}; ${re2Note}`;
  }
  return undefined;
}

export const regexMatcherSchema = strictObject({
  regex: z.string().meta({ description: 'RE2 regular expression; it matches anywhere in the text unless anchored.' }),
  flags: z
    .string()
    .regex(flagsPattern, {
      error: (issue) => `invalid flags ${JSON.stringify(issue.input)}: expected i, m or s, each at most once`,
    })
    .optional()
    .meta({ description: 'i: ignore case; m: ^ and $ match at line breaks; s: . matches a line break.' }),
})
  .superRefine((matcher, context) => {
    if (matcher.flags !== undefined && !flagsPattern.test(matcher.flags)) {
      return; // The flags schema has already reported them.
    }
    const problem = regexProblem(matcher.regex, matcher.flags);
    if (problem !== undefined) {
      context.addIssue({ code: 'custom', path: ['regex'], message: problem });
    }
  })
  .meta({ id: 'RegexMatcher' });
export type RegexMatcher = z.infer<typeof regexMatcherSchema>;

/** A rule or field matcher: a plain string is an exact value; `{ regex, flags }` is an RE2 pattern. */
export const matcherSchema = z
  .union([z.string().min(1), regexMatcherSchema], { error: matcherError })
  .meta({ id: 'Matcher', description: 'Exact value, or { regex: RE2 pattern, flags: i, m or s }.' });
export type Matcher = z.infer<typeof matcherSchema>;

/** Explains a value that is neither a string nor a valid regex object, with the object's own first issue. */
function matcherError(issue: { code: string; input?: unknown }): string | undefined {
  if (issue.code !== 'invalid_union') {
    return undefined;
  }
  const expected = 'expected an exact value (text) or a regex object such as { regex: "^Drop and execute" }';
  const { input } = issue;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return `invalid matcher: ${expected}`;
  }
  const objectIssues = regexMatcherSchema.safeParse(input).error?.issues ?? [];
  const objectIssue = objectIssues.find((candidate) => candidate.code === 'unrecognized_keys') ?? objectIssues[0];
  return objectIssue === undefined ? `invalid matcher: ${expected}` : `invalid regex matcher: ${objectIssue.message}`;
}

const patternCache = new Map<string, RE2JS>();

function flagBitsOf(flags: string): number {
  let bits = 0;
  for (const flag of flags) {
    if (flag === 'i' || flag === 'm' || flag === 's') {
      bits |= flagBits[flag];
    }
  }
  return bits;
}

function compiledPattern(source: string, flags: string): RE2JS {
  const key = `${flags}/${source}`;
  let pattern = patternCache.get(key);
  if (pattern === undefined) {
    pattern = RE2JS.compile(source, flagBitsOf(flags));
    patternCache.set(key, pattern);
  }
  return pattern;
}

/** Returns true when the text equals an exact matcher, or a regex matcher finds a match in it. */
export function matcherAccepts(matcher: Matcher, text: string): boolean {
  if (typeof matcher === 'string') {
    return matcher === text;
  }
  return compiledPattern(matcher.regex, matcher.flags ?? '').test(text.slice(0, maxMatchedTextLength));
}

/** Returns a stable text for a matcher, for comparisons and messages: `"exact"` or `regex "src" (flags i)`. */
export function describeMatcher(matcher: Matcher): string {
  if (typeof matcher === 'string') {
    return JSON.stringify(matcher);
  }
  const flags = matcher.flags === undefined ? '' : ` (flags ${[...matcher.flags].sort().join('')})`;
  return `regex ${JSON.stringify(matcher.regex)}${flags}`;
}

/** Builds a fixed pseudo-random text from a seed, so the result is the same in every process and replay. */
function sampleText(length: number, seed: number): string {
  const alphabet = 'abcXYZ019 _-./:@=()[]{}*+?|^$\\\'"#%&~éßЖ中😀';
  const characters = [...alphabet];
  let state = seed;
  let text = '';
  while (text.length < length) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    text += characters[state % characters.length] ?? 'a';
  }
  return text.slice(0, length);
}

/**
 * Non-empty texts that a pattern must all accept to count as accepting every text. Rule names and the
 * fields that playbooks test are not empty, so a pattern that rejects only the empty text narrows nothing.
 * No sample has a line break, so `^.*$` counts as accepting every text, as it does for rule names.
 */
const everyTextSamples: readonly string[] = [
  ' ',
  'a',
  'Z',
  '0',
  '-',
  '\t',
  'é',
  '😀',
  'Terminal shell in container',
  '/usr/bin/su',
  sampleText(64, 7),
  sampleText(maxMatchedTextLength, 1),
];

/**
 * Returns true when a matcher accepts every sample text, so as a condition it narrows nothing.
 * NOTE: this tests samples, not the pattern's language: a pattern that rejects only texts unlike every
 * sample (for example one exact 5,000-character text) still counts as narrowing.
 */
export function acceptsEveryText(matcher: Matcher): boolean {
  if (typeof matcher === 'string') {
    return false;
  }
  return everyTextSamples.every((text) => matcherAccepts(matcher, text));
}
