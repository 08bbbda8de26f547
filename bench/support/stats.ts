/** Latency statistics over repeated runs: percentiles of all samples and the spread of per-round medians. */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
  /** Median of each round of samples, in run order; their range is the spread between repeated runs. */
  roundMediansMs: number[];
}

/** Returns the nearest-rank percentile `q` (0-100) of ascending `sorted`, or NaN for no samples. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** Returns the median of unsorted values. */
export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** Summarises samples; `rounds` gives each sample's round so that repeated runs show their spread. */
export function summarise(
  samplesMs: readonly number[],
  rounds: readonly number[][] = [samplesMs.slice()],
): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    minMs: sorted[0] ?? Number.NaN,
    maxMs: sorted.at(-1) ?? Number.NaN,
    meanMs: sorted.length === 0 ? Number.NaN : total / sorted.length,
    roundMediansMs: rounds.filter((round) => round.length > 0).map((round) => median(round)),
  };
}

/** Formats milliseconds for a table: whole numbers from 10 ms up, one decimal below. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) {
    return 'n/a';
  }
  return value >= 10 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}

/** Formats the percentiles and the spread on one line: `p50 41 ms, p90 60 ms, p99 95 ms (rounds 39-44 ms, n=300)`. */
export function describeLatency(summary: LatencySummary): string {
  const rounds = summary.roundMediansMs;
  const spread = rounds.length > 1 ? `round medians ${ms(Math.min(...rounds))} to ${ms(Math.max(...rounds))}, ` : '';
  return `p50 ${ms(summary.p50Ms)}, p90 ${ms(summary.p90Ms)}, p99 ${ms(summary.p99Ms)} (${spread}max ${ms(summary.maxMs)}, n=${summary.count})`;
}

/** Splits samples into `count` consecutive rounds of about equal size. */
export function splitRounds<T>(samples: readonly T[], count: number): T[][] {
  const size = Math.max(1, Math.ceil(samples.length / Math.max(1, count)));
  const rounds: T[][] = [];
  for (let start = 0; start < samples.length; start += size) {
    rounds.push(samples.slice(start, start + size));
  }
  return rounds;
}
