import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../tools/lab/binaries';
import { renderDocs } from './support/docs';
import { workflowBundlePath } from './support/firebreak';
import { benchmarkOrder } from './support/results';

/**
 * Runs every benchmark, one after another, each in its own process with its own servers, then rewrites
 * docs/benchmarks.md. `bench/run.ts storm slack-click` runs only the named ones. Exits non-zero when any
 * benchmark reported a wrong result or failed.
 */

function runOne(name: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, `${name}.ts`)], {
      cwd: repoRoot,
      env: process.env,
      stdio: 'inherit',
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !benchmarkOrder.includes(name as (typeof benchmarkOrder)[number]));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark ${unknown.join(', ')}: choose from ${benchmarkOrder.join(', ')}`);
  }
  const names = requested.length > 0 ? requested : [...benchmarkOrder];
  process.stdout.write('bench: bundling the workflow code once for every benchmark\n');
  await workflowBundlePath();
  const started = Date.now();
  const outcomes: [string, number, number][] = [];
  for (const name of names) {
    const benchStarted = Date.now();
    const code = await runOne(name);
    outcomes.push([name, code, Math.round((Date.now() - benchStarted) / 1000)]);
  }
  await renderDocs();
  process.stdout.write(
    `\nbench: finished in ${Math.round((Date.now() - started) / 1000)} s; docs/benchmarks.md rewritten\n`,
  );
  for (const [name, code, seconds] of outcomes) {
    process.stdout.write(`  ${name.padEnd(16)} ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds} s\n`);
  }
  process.exitCode = outcomes.some(([, code]) => code !== 0) ? 1 : 0;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
