import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { z } from 'zod';
import { repoRoot } from '../../tools/lab/binaries';
import { machineSchema } from './machine';

/** Folder of the latest result of each benchmark, one JSON file per benchmark, kept in the repository. */
export const resultsDir = join(repoRoot, 'bench', 'results');
export const docsFile = join(repoRoot, 'docs', 'benchmarks.md');

export const tableSchema = z.object({ header: z.array(z.string()), rows: z.array(z.array(z.string())) });
export type Table = z.infer<typeof tableSchema>;

/** One row of the goals table. */
export const goalRowSchema = z.object({
  benchmark: z.string(),
  goal: z.string(),
  measured: z.string(),
  met: z.enum(['yes', 'no', 'n/a']),
  scale: z.string(),
});
export type GoalRow = z.infer<typeof goalRowSchema>;

export const sectionSchema = z.object({
  title: z.string(),
  text: z.string().optional(),
  table: tableSchema.optional(),
});
export type Section = z.infer<typeof sectionSchema>;

export const resultSchema = z.object({
  id: z.string(),
  title: z.string(),
  command: z.string(),
  startedAt: z.string(),
  durationSec: z.number(),
  scale: z.number(),
  machine: machineSchema,
  rows: z.array(goalRowSchema),
  sections: z.array(sectionSchema),
  /** Lost alerts, wrong incident counts and other wrong results; any entry makes the benchmark exit non-zero. */
  failures: z.array(z.string()),
});
export type BenchResult = z.infer<typeof resultSchema>;

/** The order of the benchmarks in the document and in `bench/run.ts`. */
export const benchmarkOrder = [
  'alert-to-policy',
  'intake-ack',
  'sustained',
  'storm',
  'open-gates',
  'quarantines',
  'slack-click',
  'kill-storm',
] as const;

/** Writes a file formatted with the repository's Prettier settings, so `npm run format:check` passes. */
export async function writeFormatted(file: string, text: string): Promise<void> {
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(text, { ...options, filepath: file }));
}

export async function writeResult(result: BenchResult): Promise<void> {
  mkdirSync(resultsDir, { recursive: true });
  await writeFormatted(join(resultsDir, `${result.id}.json`), JSON.stringify(result, null, 2));
}

/** Reads every stored result; a file that does not parse is reported and skipped. */
export function readResults(): BenchResult[] {
  const files = readdirSync(resultsDir, { withFileTypes: true }).filter((entry) => entry.name.endsWith('.json'));
  const results: BenchResult[] = [];
  for (const file of files) {
    const parsed = resultSchema.safeParse(JSON.parse(readFileSync(join(resultsDir, file.name), 'utf8')));
    if (parsed.success) {
      results.push(parsed.data);
    } else {
      process.stderr.write(`bench: ${file.name} is not a valid result and is left out: ${parsed.error.message}\n`);
    }
  }
  const rank = (id: string) => {
    const index = benchmarkOrder.indexOf(id as (typeof benchmarkOrder)[number]);
    return index < 0 ? benchmarkOrder.length : index;
  };
  return results.sort((a, b) => rank(a.id) - rank(b.id));
}

/** Renders a Markdown table; cell text has its pipes escaped. */
export function markdownTable(table: Table): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `| ${table.header.map(cell).join(' | ')} |`,
    `| ${table.header.map(() => '---').join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
  return lines.join('\n');
}

/** Renders a table for a terminal, with padded columns. */
export function textTable(table: Table): string {
  const widths = table.header.map((title, column) =>
    Math.max(title.length, ...table.rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) => cells.map((text, column) => text.padEnd(widths[column] ?? 0)).join('  ');
  return [line(table.header), line(widths.map((width) => '-'.repeat(width))), ...table.rows.map(line)].join('\n');
}
