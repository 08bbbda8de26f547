/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: it throws on the first
 * line that is neither a HELP or TYPE comment nor a sample, and returns the samples by series name.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const metricName = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const labelPair = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"';
const samplePattern = new RegExp(`^(${metricName})(\\{(?:${labelPair}(?:,${labelPair})*,?)?\\})? (\\S+)(?: -?\\d+)?$`);
const commentPattern = new RegExp(`^# (HELP|TYPE) (${metricName})(?: (.*))?$`);
const metricTypes = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * Reads a sample value. Prometheus reads values with Go's `strconv.ParseFloat`, which takes NaN and Inf in any letter
 * case, and prom-client 15.1.3 writes `Nan` for an event loop histogram that has no samples yet.
 */
function parseValue(text: string, line: string): number {
  const special = text.toLowerCase();
  if (special === 'nan') return NaN;
  if (special === '+inf' || special === 'inf') return Infinity;
  if (special === '-inf') return -Infinity;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`invalid sample value in line: ${line}`);
  return value;
}

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of (text ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[match[1] ?? ''] = match[2] ?? '';
  }
  return labels;
}

/** Parses exposition text; throws naming the first invalid line. */
export function parsePrometheusText(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = commentPattern.exec(line);
    if (comment !== null) {
      if (comment[1] === 'TYPE' && !metricTypes.has(comment[3] ?? '')) throw new Error(`invalid TYPE line: ${line}`);
      if (comment[1] === 'TYPE') types.set(comment[2] ?? '', comment[3] ?? '');
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = samplePattern.exec(line);
    if (sample === null) throw new Error(`invalid exposition line: ${line}`);
    samples.push({ name: sample[1] ?? '', labels: parseLabels(sample[2]), value: parseValue(sample[3] ?? '', line) });
  }
  return { samples, types };
}
