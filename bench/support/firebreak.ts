import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { z } from 'zod';
import { repoRoot } from '../../tools/lab/binaries';
import type { FirebreakProcessConfig } from './firebreak-main';
import type { BenchLab } from './lab';

const readySchema = z.object({
  ready: z.literal(true),
  intakeUrl: z.string().optional(),
  slackUrl: z.string().optional(),
});

/** A Firebreak process started by a benchmark. */
export interface FirebreakProcess {
  pid: number;
  intakeUrl?: string;
  slackUrl?: string;
  logFile: string;
  exited: Promise<number | null>;
  /** Resident and peak resident memory in MiB, from /proc. */
  memoryMiB(): { rss: number; peak: number };
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL at once, as a crash or an OOM kill would. */
  kill(): Promise<void>;
}

/**
 * Returns the path of the bundled workflow code, bundling it once per benchmark run. `bench/run.ts` bundles
 * before the first benchmark and passes the path on in FIREBREAK_BENCH_BUNDLE.
 */
export async function workflowBundlePath(): Promise<string> {
  const given = process.env['FIREBREAK_BENCH_BUNDLE'];
  if (given !== undefined && existsSync(given)) {
    return given;
  }
  const dir = join(repoRoot, '.cache', 'bench');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `workflow-bundle-${process.pid}.js`);
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, log: () => {} },
  });
  writeFileSync(path, code);
  process.env['FIREBREAK_BENCH_BUNDLE'] = path;
  return path;
}

function readStatusKiB(pid: number, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(match?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Returns the settings that every Firebreak process of a benchmark shares: the lab's servers and one task queue. */
export function firebreakSettings(lab: BenchLab, playbookDir: string, intakeToken: string) {
  return {
    temporalAddress: lab.lab.temporal.address,
    taskQueue: 'firebreak',
    kubeconfigPath: lab.kube.kubeconfigPath,
    playbookDir,
    dataDir: join(lab.dir, 'firebreak'),
    intakeToken,
  };
}

/** Starts a Firebreak process and waits until its servers listen and its worker polls. */
export async function startFirebreak(
  name: string,
  config: Omit<FirebreakProcessConfig, 'workflowBundlePath'>,
  nodeOptions: string[] = [],
): Promise<FirebreakProcess> {
  mkdirSync(config.dataDir, { recursive: true });
  const logFile = join(config.dataDir, `${name}.log`);
  const logFd = openSync(logFile, 'a');
  const full: FirebreakProcessConfig = { ...config, workflowBundlePath: await workflowBundlePath() };
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeOptions, '--import', 'tsx', join(__dirname, 'firebreak-main.ts')],
    {
      cwd: repoRoot,
      env: { ...process.env, FIREBREAK_BENCH_CONFIG: JSON.stringify(full) },
      stdio: ['ignore', logFd, logFd, 'ipc'],
    },
  );
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`the Firebreak process ${name} did not start; see ${logFile}`);
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<z.infer<typeof readySchema>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} was not ready within 120 s; see ${logFile}`)), 120_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      const parsed = readySchema.safeParse(message);
      if (parsed.success) resolve(parsed.data);
      else reject(new Error(`${name} sent an invalid ready message: ${JSON.stringify(message)}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it was ready; see ${logFile}`));
    });
  });
  const signal = async (kind: NodeJS.Signals, graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(kind);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return {
    pid,
    intakeUrl: ready.intakeUrl,
    slackUrl: ready.slackUrl,
    logFile,
    exited,
    memoryMiB: () => ({
      rss: Math.round(readStatusKiB(pid, 'VmRSS') / 1024),
      peak: Math.round(readStatusKiB(pid, 'VmHWM') / 1024),
    }),
    stop: () => signal('SIGTERM', 10_000),
    kill: () => signal('SIGKILL', 5000),
  };
}

/**
 * Signals the intake sent and their mean duration, from its /metrics. One signal is one signalWithStart; after a
 * closed incident it is a describe and a second signalWithStart as well.
 */
export async function intakeSignalStats(
  intakeUrl: string,
): Promise<{ signals: number; meanMs: number; alertsPerSignal: number }> {
  const text = await (await fetch(`${intakeUrl}/metrics`)).text();
  const read = (name: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(name))
      .reduce((sum, line) => sum + (Number(line.slice(line.lastIndexOf(' ') + 1)) || 0), 0);
  const signals = read('firebreak_intake_signal_duration_seconds_count');
  const seconds = read('firebreak_intake_signal_duration_seconds_sum');
  const batchedAlerts = read('firebreak_intake_batch_alerts_sum');
  return {
    signals,
    meanMs: signals === 0 ? 0 : (seconds / signals) * 1000,
    alertsPerSignal: signals === 0 ? 0 : batchedAlerts / signals,
  };
}
