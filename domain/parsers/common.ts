import { z } from 'zod';
import { falcoPriorities, type Alert, type Priority } from '../alert';

/** A sender field value before normalisation: Falco sends string, number, boolean or null. */
export const rawFieldValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type RawFieldValue = z.infer<typeof rawFieldValueSchema>;
export type FieldValue = string | number | boolean;

/**
 * A Falco `output_fields` value: a scalar, or a list field (such as `ka.req.pod.containers.image`), which
 * libsinsp writes as a JSON array.
 */
export const listOrScalarFieldSchema = z.union([rawFieldValueSchema, z.array(rawFieldValueSchema)]);
export type ListOrScalarField = z.infer<typeof listOrScalarFieldSchema>;

/**
 * Turns list fields into their JSON text (`["nginx","redis"]`), so `fields` keeps one scalar per name and
 * element boundaries stay unambiguous. An empty list means unknown and becomes `null`.
 */
export function flattenListFields(fields: Record<string, ListOrScalarField>): Record<string, RawFieldValue> {
  const flat: Record<string, RawFieldValue> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (!Array.isArray(value)) {
      flat[key] = value;
    } else {
      flat[key] = value.length === 0 ? null : JSON.stringify(value);
    }
  }
  return flat;
}

/** Values that Falco and its forwarders use for "unknown": `null`, `<NA>`, `N/A` and the empty string. */
const unknownTexts = new Set(['', '<NA>', 'N/A']);

/** Returns the value, or undefined when it means "unknown". */
export function knownValue(value: RawFieldValue | undefined): FieldValue | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  if (typeof value === 'string' && unknownTexts.has(value.trim())) {
    return undefined;
  }
  return value;
}

/** Returns the value as text, or undefined when it is unknown. Numbers are written in decimal. */
export function knownText(value: RawFieldValue | undefined): string | undefined {
  const known = knownValue(value);
  return known === undefined ? undefined : String(known);
}

/** Copies a field map without its unknown values. */
export function dropUnknownFields(fields: Record<string, RawFieldValue>): Record<string, FieldValue> {
  const kept: Record<string, FieldValue> = {};
  for (const [key, value] of Object.entries(fields)) {
    const known = knownValue(value);
    if (known !== undefined) {
      kept[key] = known;
    }
  }
  return kept;
}

/** Other spellings that senders use for Falco priorities (syslog short names, Falco's `info`). */
const priorityAliases: Record<string, Priority> = {
  emerg: 'Emergency',
  crit: 'Critical',
  err: 'Error',
  warn: 'Warning',
  info: 'Informational',
};

/**
 * Maps a priority in any letter case to Falco's spelling. Returns undefined for text that names no Falco
 * priority (`Urgent`, empty), which the caller records as an unrecognised priority instead of rejecting.
 */
export function normalisePriority(text: string | undefined): Priority | undefined {
  const lower = text?.trim().toLowerCase();
  if (!lower) {
    return undefined;
  }
  const exact = falcoPriorities.find((priority) => priority.toLowerCase() === lower);
  return exact ?? priorityAliases[lower];
}

/**
 * Priority given to an alert whose sender priority is unrecognised. `Informational` never meets an automatic
 * containment threshold, and `priorityRecognised: false` makes the workflow ask a human.
 */
export const unrecognisedPriority: Priority = 'Informational';

const techniquePattern = /^T\d{4}(\.\d{3})?$/;
const tacticIdPattern = /^TA\d{4}$/;
const tacticTagPrefix = 'mitre_';

/**
 * Extracts MITRE ATT&CK references from Falco-style tags: techniques (`T1059`, `T1059.004`), tactic ids
 * (`TA0003`) and tactic tags (`mitre_persistence` becomes `persistence`).
 */
export function extractMitre(tags: readonly string[]): Alert['mitre'] {
  const techniques: string[] = [];
  const tactics: string[] = [];
  for (const tag of tags) {
    if (techniquePattern.test(tag)) {
      techniques.push(tag);
    } else if (tacticIdPattern.test(tag)) {
      tactics.push(tag);
    } else if (tag.startsWith(tacticTagPrefix) && tag.length > tacticTagPrefix.length) {
      tactics.push(tag.slice(tacticTagPrefix.length));
    }
  }
  return { techniques, tactics };
}

const nanosecondsPattern = /^\d{1,25}$/;

/** Returns a nanosecond timestamp as a decimal string when the value is a non-negative integer, else undefined. */
export function nanosecondsText(value: RawFieldValue | undefined): string | undefined {
  const text = knownText(value);
  return text !== undefined && nanosecondsPattern.test(text) ? text : undefined;
}

/** Joins an image repository and tag (`repo:tag`), or returns the repository alone when the tag is unknown. */
export function imageReference(repository: string | undefined, tag: string | undefined): string | undefined {
  if (repository === undefined) {
    return undefined;
  }
  return tag === undefined ? repository : `${repository}:${tag}`;
}

/** One problem in an alert body, with the path of the offending field from the body's root. */
export interface BodyIssue {
  path: (string | number)[];
  message: string;
}

/** Raised when an alert body is malformed or breaks its schema; `issues` name each offending field. */
export class AlertBodyError extends Error {
  constructor(readonly issues: BodyIssue[]) {
    super(`invalid alert body: ${issues.map(formatIssue).join('; ')}`);
    this.name = 'AlertBodyError';
  }
}

function formatIssue(issue: BodyIssue): string {
  return issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`;
}

/** Converts zod issues to body issues, with their paths placed under `prefix`. */
export function issuesFromZod(error: z.ZodError, prefix: (string | number)[] = []): BodyIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path.map((key) => (typeof key === 'number' ? key : String(key)))],
    message: issue.message,
  }));
}

/** Validates a value against a schema, or raises `AlertBodyError` with the issue paths under `prefix`. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, prefix: (string | number)[]): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new AlertBodyError(issuesFromZod(result.error, prefix));
  }
  return result.data;
}
