import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import { repoRoot } from '../../tools/lab/binaries';
import { renderDocs } from './docs';
import { labDirs } from './lab';
import { describeMachine, LoadSampler, scaleFor } from './machine';
import { textTable, writeResult, type GoalRow, type Section, type Table } from './results';

/** The reporting interface of a running benchmark body. */
export interface BenchContext {
  /** Scale factor in (0, 1]; 1 is the full scale of the goals. */
  scale: number;
  row(row: Omit<GoalRow, 'met'> & { met: boolean | 'n/a' }): void;
  section(title: string, content: { text?: string; table?: Table }): void;
  /** Records a wrong result (a lost alert, a wrong incident count); the benchmark then exits non-zero. */
  fail(message: string): void;
  /** Server versions, set once the servers are up. */
  versions: { temporalCli: string; kubeApiserver: string };
  log(message: string): void;
}

/**
 * Runs one benchmark: samples the load average, runs the body, stores the result in `bench/results/`,
 * rewrites `docs/benchmarks.md`, prints the tables and exits non-zero on any wrong result or error.
 */
export async function runBench(
  id: string,
  title: string,
  file: string,
  body: (context: BenchContext) => Promise<void>,
): Promise<void> {
  const started = new Date();
  const sampler = new LoadSampler();
  const rows: GoalRow[] = [];
  const sections: Section[] = [];
  const failures: string[] = [];
  const context: BenchContext = {
    scale: scaleFor(id),
    row: (row) => {
      const met = row.met === 'n/a' ? 'n/a' : row.met ? 'yes' : 'no';
      rows.push({ ...row, met });
    },
    section: (sectionTitle, content) => sections.push({ title: sectionTitle, ...content }),
    fail: (message) => {
      failures.push(message);
      process.stderr.write(`bench ${id}: WRONG RESULT: ${message}\n`);
    },
    versions: { temporalCli: 'unknown', kubeApiserver: 'unknown' },
    log: (message) => process.stdout.write(`[${id} ${new Date().toISOString().slice(11, 19)}] ${message}\n`),
  };
  context.log(`starting at scale ${context.scale}`);
  let error: unknown;
  try {
    await body(context);
  } catch (caught) {
    error = caught;
    failures.push(`the benchmark failed: ${caught instanceof Error ? caught.message : String(caught)}`);
  }
  const result = {
    id,
    title,
    command: `bash tools/node.sh tsx ${relative(repoRoot, file)}`,
    startedAt: started.toISOString(),
    durationSec: Math.round((Date.now() - started.getTime()) / 1000),
    scale: context.scale,
    machine: describeMachine(context.versions, sampler.stop()),
    rows,
    sections,
    failures,
  };
  await writeResult(result);
  if (failures.length === 0 && process.env['BENCH_KEEP_RUNS'] !== '1') {
    for (const dir of labDirs) rmSync(dir, { recursive: true, force: true });
  } else if (labDirs.length > 0) {
    context.log(`server data and logs kept in ${labDirs.join(', ')}`);
  }
  await renderDocs();
  printResult(title, rows, sections, failures);
  if (error !== undefined) {
    process.stderr.write(`bench ${id}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exitCode = failures.length > 0 ? 1 : 0;
}

function printResult(title: string, rows: GoalRow[], sections: Section[], failures: string[]): void {
  const out: string[] = [`\n== ${title} ==\n`];
  out.push(
    textTable({
      header: ['Benchmark', 'Goal', 'Measured', 'Met', 'Scale'],
      rows: rows.map((row) => [row.benchmark, row.goal, row.measured, row.met, row.scale]),
    }),
  );
  for (const section of sections) {
    out.push(`\n-- ${section.title}`);
    if (section.text) out.push(section.text);
    if (section.table) out.push(textTable(section.table));
  }
  out.push(failures.length === 0 ? '\nNo wrong results.' : `\nWRONG RESULTS:\n- ${failures.join('\n- ')}`);
  process.stdout.write(`${out.join('\n')}\n`);
}
