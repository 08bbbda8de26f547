import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, type as osType, release } from 'node:os';
import { z } from 'zod';

/** The machine and server versions a benchmark ran on. */
export const machineSchema = z.object({
  cpuModel: z.string(),
  cores: z.number(),
  memoryGiB: z.number(),
  os: z.string(),
  node: z.string(),
  temporalCli: z.string(),
  kubeApiserver: z.string(),
  /** One-minute load average sampled every 5 s during the run: other work may share the machine. */
  loadAverage: z.object({ min: z.number(), mean: z.number(), max: z.number() }),
});
export type Machine = z.infer<typeof machineSchema>;

/** Samples the one-minute load average every 5 s until stopped. */
export class LoadSampler {
  private readonly samples: number[] = [loadavg()[0] ?? 0];
  private readonly timer = setInterval(() => this.samples.push(loadavg()[0] ?? 0), 5000);

  constructor() {
    this.timer.unref();
  }

  stop(): Machine['loadAverage'] {
    clearInterval(this.timer);
    this.samples.push(loadavg()[0] ?? 0);
    const total = this.samples.reduce((sum, value) => sum + value, 0);
    const round = (value: number) => Math.round(value * 100) / 100;
    return {
      min: round(Math.min(...this.samples)),
      mean: round(total / this.samples.length),
      max: round(Math.max(...this.samples)),
    };
  }
}

/** Describes this machine; the server versions come from the servers the benchmark started. */
export function describeMachine(
  versions: { temporalCli: string; kubeApiserver: string },
  loadAverage: Machine['loadAverage'],
): Machine {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
    ...versions,
    loadAverage,
  };
}

/**
 * Returns the scale factor of a benchmark: `BENCH_<NAME>_SCALE`, else `BENCH_SCALE`, else 1 (the full
 * scale of the goals). A scale of 0.1 runs a tenth of the alerts, incidents or seconds.
 */
export function scaleFor(name: string, env: Record<string, string | undefined> = process.env): number {
  const variable = `BENCH_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_SCALE`;
  const raw = env[variable] ?? env['BENCH_SCALE'] ?? '1';
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new Error(
      `${env[variable] === undefined ? 'BENCH_SCALE' : variable}=${raw} is invalid: use a number in (0, 1]`,
    );
  }
  return value;
}

/** Scales a full-scale count, keeping at least `minimum`. */
export function scaled(full: number, scale: number, minimum = 1): number {
  return Math.max(minimum, Math.round(full * scale));
}

/** CPU time (user plus system) that a process has used so far, in seconds; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of /proc/<pid>/stat (utime, stime) in clock ticks; Linux uses 100 ticks per second.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Measures the CPU seconds each named process uses between `start()` and `stop()`. */
export class CpuMeter {
  private readonly startSec = new Map<string, number>();
  private startedMs = 0;

  constructor(private readonly processes: Record<string, number>) {}

  start(): void {
    this.startedMs = Date.now();
    for (const [name, pid] of Object.entries(this.processes)) this.startSec.set(name, cpuSeconds(pid));
  }

  /** Returns rows of process name, CPU seconds and the share of one core over the measured time. */
  stop(): string[][] {
    const elapsedSec = (Date.now() - this.startedMs) / 1000;
    return Object.entries(this.processes).map(([name, pid]) => {
      const used = cpuSeconds(pid) - (this.startSec.get(name) ?? 0);
      return [name, `${used.toFixed(1)} s`, `${Math.round((used / elapsedSec) * 100)}% of a core`];
    });
  }
}
