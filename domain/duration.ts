/**
 * Duration strings in the style Temporal accepts (`30s`, `5m`, `4h`, `1d`, `1h30m`). Pure code with no
 * Node imports, so workflow code may use it.
 */

const unitMs = {
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
} as const;

type DurationUnit = keyof typeof unitMs;

/** Units from the largest to the smallest, the order in which a duration must write them. */
const unitOrder: readonly DurationUnit[] = ['d', 'h', 'm', 's', 'ms'];

/**
 * Syntax of a duration string: whole numbers, each followed by a unit, each unit at most once and from the
 * largest to the smallest, so `1h30m` is valid and `30m1h` or `5m5m` are not.
 */
export const durationPattern = /^(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;
const partPattern = /(\d+)(ms|s|m|h|d)/g;

const expectedText =
  'expected whole numbers with a unit (ms, s, m, h, d), each unit once and the largest first, ' +
  'for example 30s, 5m, 4h, 1d or 1h30m';

/** Thrown when a string is not a valid duration; the message names the value and the expected form. */
export class InvalidDurationError extends Error {
  constructor(
    readonly value: string,
    reason = expectedText,
  ) {
    super(`invalid duration ${JSON.stringify(value)}: ${reason}`);
    this.name = 'InvalidDurationError';
  }
}

/** Parses a duration string into milliseconds; throws InvalidDurationError on anything else. */
export function parseDurationMs(value: string): number {
  const match = durationPattern.exec(value);
  if (match === null) {
    throw new InvalidDurationError(value, durationSyntaxProblem(value));
  }

  let totalMs = 0;
  for (const [index, unit] of unitOrder.entries()) {
    const amount = match[index + 1];
    if (amount !== undefined) {
      totalMs += Number(amount) * unitMs[unit];
    }
  }

  if (!Number.isSafeInteger(totalMs)) {
    throw new InvalidDurationError(value, 'the value is too large to count in milliseconds');
  }
  return totalMs;
}

/** Explains why a string that fails durationPattern is not a duration. */
function durationSyntaxProblem(value: string): string {
  const parts = [...value.matchAll(partPattern)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== value) {
    return expectedText;
  }
  const units = parts.map((part) => part[2] ?? '');
  const repeated = units.find((unit, index) => units.indexOf(unit) !== index);
  if (repeated !== undefined) {
    return `the unit ${repeated} appears more than once; write each unit once, for example 1h30m`;
  }
  return 'the units are out of order; write the largest unit first, for example 1h30m';
}

/** Returns true when parseDurationMs accepts the value. */
export function isValidDuration(value: string): boolean {
  try {
    parseDurationMs(value);
    return true;
  } catch {
    return false;
  }
}

/** Formats milliseconds as the shortest duration string, for example 5400000 as `1h30m`. */
export function formatDurationMs(durationMs: number): string {
  if (!Number.isSafeInteger(durationMs) || durationMs < 0) {
    throw new RangeError(`cannot format ${durationMs} as a duration: expected a whole, non-negative number`);
  }
  if (durationMs === 0) {
    return '0s';
  }

  let restMs = durationMs;
  let text = '';
  for (const unit of unitOrder) {
    const amount = Math.floor(restMs / unitMs[unit]);
    if (amount > 0) {
      text += `${amount}${unit}`;
      restMs -= amount * unitMs[unit];
    }
  }
  return text;
}
