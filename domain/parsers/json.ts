/**
 * JSON parsing that keeps integers beyond 2^53 exactly. Falco sends nanosecond timestamps such as
 * `1733312061123456789` as JSON numbers; plain `JSON.parse` rounds them to `1733312061123456800`.
 */

import { AlertBodyError } from './common';

/** An integer whose decimal text is kept because a JS number cannot hold it exactly. */
export class LargeInteger {
  constructor(readonly text: string) {}
}

/** Node 21+ passes the literal source text of each primitive to the reviver (TC39 "JSON.parse source text access"). */
interface ReviverContext {
  source?: string;
}

const integerText = /^-?\d+$/;

/** `JSON.rawJSON` (Node 21+); TypeScript's ES2023 library does not declare it yet. */
const rawJson: ((text: string) => unknown) | undefined = (JSON as { rawJSON?: (text: string) => unknown }).rawJSON;

/**
 * Parses JSON text like `JSON.parse`, except that integers outside the safe range become `LargeInteger`.
 * Throws `SyntaxError` on malformed text.
 */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(text, (_key: string, value: unknown, context?: ReviverContext) => {
    if (typeof value !== 'number' || Number.isSafeInteger(value)) {
      return value;
    }
    const source = context?.source;
    if (source === undefined) {
      throw new Error('JSON.parse did not pass the source text of numbers: Node.js 21 or later is required');
    }
    return integerText.test(source) ? new LargeInteger(source) : value;
  });
}

/**
 * Converts a parsed tree into plain JSON values for schema checks: each `LargeInteger` becomes its decimal
 * string, so no precision is lost and zod gets only standard types.
 */
export function toPlainJson(value: unknown): unknown {
  if (value instanceof LargeInteger) {
    return value.text;
  }
  if (Array.isArray(value)) {
    return value.map(toPlainJson);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toPlainJson(item)]));
  }
  return value;
}

/** Serialises a parsed tree back to JSON text with each `LargeInteger` written as its original digits. */
export function stringifyExact(value: unknown): string {
  if (rawJson === undefined) {
    throw new Error('JSON.rawJSON is missing: Node.js 21 or later is required');
  }
  const toRaw = rawJson;
  return JSON.stringify(value, (_key, item: unknown) => (item instanceof LargeInteger ? toRaw(item.text) : item));
}

/**
 * Splits newline-delimited JSON into its non-empty lines, each with its 1-based line number, so an error can
 * name the line.
 */
export function splitJsonLines(text: string): { line: number; text: string }[] {
  return text
    .split(/\r?\n/)
    .map((lineText, index) => ({ line: index + 1, text: lineText.trim() }))
    .filter((entry) => entry.text.length > 0);
}

/** Body format: one JSON document (object or array), or NDJSON with one JSON object a line. */
export type BodyFormat = 'json' | 'ndjson';

/** One event decoded from a body: plain JSON for schema checks, its exact JSON text, and its path in the body. */
export interface DecodedEvent {
  value: unknown;
  rawEvent: string;
  path: (string | number)[];
}

/**
 * Decodes a body into its events. A JSON object is one event, a JSON array is one event per element, and
 * NDJSON is one event per non-empty line (its path is the 0-based index of that event). Raises `AlertBodyError`
 * for malformed or too deeply nested JSON, naming the line for NDJSON. One bad line rejects the whole body.
 */
export function decodeEvents(text: string, format: BodyFormat): DecodedEvent[] {
  if (format === 'ndjson') {
    return splitJsonLines(text).map((entry, index) => ({
      value: toPlainJson(parseOrRaise(entry.text, [index], `line ${entry.line}`)),
      rawEvent: entry.text,
      path: [index],
    }));
  }
  const document = parseOrRaise(text, [], 'body');
  if (Array.isArray(document)) {
    return document.map((element: unknown, index) => ({
      value: toPlainJson(element),
      rawEvent: stringifyExact(element),
      path: [index],
    }));
  }
  return [{ value: toPlainJson(document), rawEvent: text.trim(), path: [] }];
}

/**
 * Deepest nesting of arrays and objects that a body may have. Alert bodies nest a few levels; far deeper
 * text would exhaust the stack of the recursive steps after parsing, so it is rejected before parsing.
 */
export const maxJsonDepth = 64;

const openBrace = 0x7b;
const openBracket = 0x5b;
const closeBrace = 0x7d;
const closeBracket = 0x5d;
const quote = 0x22;
const backslash = 0x5c;

/** Returns true when the JSON text nests arrays and objects deeper than `maxDepth`, skipping string contents. */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === backslash) {
        index++;
      } else if (code === quote) {
        inString = false;
      }
    } else if (code === quote) {
      inString = true;
    } else if (code === openBrace || code === openBracket) {
      depth++;
      if (depth > maxDepth) {
        return true;
      }
    } else if (code === closeBrace || code === closeBracket) {
      depth--;
    }
  }
  return false;
}

function parseOrRaise(text: string, path: (string | number)[], what: string): unknown {
  if (nestsDeeperThan(text, maxJsonDepth)) {
    const message = `${what} nests arrays and objects deeper than ${maxJsonDepth} levels: send a flatter document`;
    throw new AlertBodyError([{ path, message }]);
  }
  try {
    return parseJsonExact(text);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new AlertBodyError([{ path, message: `${what} is not valid JSON (${error.message})` }]);
    }
    throw error;
  }
}

/** Decodes a body that must be one JSON document, into plain JSON values. */
export function decodeDocument(text: string): unknown {
  return toPlainJson(parseOrRaise(text, [], 'body'));
}
