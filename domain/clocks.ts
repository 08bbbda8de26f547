import type { Severity } from './alert';
import type { ClockName } from './response-record';

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;

/**
 * Response-time target per severity, from the first alert to the first response decision (the isolate
 * gate's outcome). Zero means immediate: the target is missed as soon as the response waits for a person.
 */
export const responseTargetMs: Readonly<Record<Severity, number>> = {
  P0: 0,
  P1: hourMs,
  P2: 4 * hourMs,
  P3: 24 * hourMs,
};

/** Time from the first alert by which each phase should be finished. Recovery has no target. */
export const phaseTargetMs = {
  detect: 15 * minuteMs,
  isolate: 60 * minuteMs,
  eradicate: 4 * hourMs,
} as const;

export type PhaseClockName = keyof typeof phaseTargetMs;

/** Target of a clock for an incident of the given severity. */
export function clockTargetMs(name: ClockName, severity: Severity): number {
  return name === 'response' ? responseTargetMs[severity] : phaseTargetMs[name];
}

/** All clocks an incident runs, in the order they fall due for the default targets. */
export const clockNames: readonly ClockName[] = ['response', 'detect', 'isolate', 'eradicate'];
