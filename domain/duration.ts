/**
 * Duration strings in the style Temporal accepts (`30s`, `5m`, `4h`, `1d`, `1h30m`). Pure code with no
 * Node imports, so workflow code may use it.
 */

const unitMs = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
} as const;

type DurationUnit = keyof typeof unitMs;

/** Syntax of a duration string: one or more whole numbers, each followed by a unit. */
export const durationPattern = /^(?:\d+(?:ms|s|m|h|d))+$/;
const partPattern = /(\d+)(ms|s|m|h|d)/g;

const expectedText = 'expected whole numbers with a unit (ms, s, m, h, d), for example 30s, 5m, 4h, 1d or 1h30m';

/** Thrown when a string is not a valid duration; the message names the value and the expected form. */
export class InvalidDurationError extends Error {
  constructor(readonly value: string) {
    super(`invalid duration ${JSON.stringify(value)}: ${expectedText}`);
    this.name = 'InvalidDurationError';
  }
}

/** Parses a duration string into milliseconds; throws InvalidDurationError on anything else. */
export function parseDurationMs(value: string): number {
  if (!durationPattern.test(value)) {
    throw new InvalidDurationError(value);
  }

  let totalMs = 0;
  for (const match of value.matchAll(partPattern)) {
    const unit = match[2];
    if (unit === undefined || !isDurationUnit(unit)) {
      throw new InvalidDurationError(value);
    }
    totalMs += Number(match[1]) * unitMs[unit];
  }

  if (!Number.isSafeInteger(totalMs)) {
    throw new InvalidDurationError(value);
  }
  return totalMs;
}

function isDurationUnit(text: string): text is DurationUnit {
  return Object.hasOwn(unitMs, text);
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
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const amount = Math.floor(restMs / unitMs[unit]);
    if (amount > 0) {
      text += `${amount}${unit}`;
      restMs -= amount * unitMs[unit];
    }
  }
  return text;
}
