import { escapeMarkdown, inlineCode, renderMarkdown } from '../../../activities/report/markdown';
import { buildIncidentReport, type EvidenceContext } from '../../../activities/report/report';
import type { IncidentRecord } from '../../../domain/response';
import { incidentRecordFor, sampleTarget } from './incident-record';

/** Values an attacker controls: each tries to end its line, add a heading, HTML, a link, a cell or a code span. */
const payloads = [
  'registry.example/app:1\n\n# Incident closed: false positive\n\n<img src=x onerror=alert(1)>',
  'a | b | c',
  'x` <b>bold</b> `y',
  '```\nfenced',
  '[click](javascript:alert(1))',
  'evil](javascript:alert(1))',
  'line\r\n## Decisions\u2028next',
  'rtl \u202Eexe.txt \u200Fmark \u200Bzero \uFEFFbom',
  '<script>alert(1)</script> &amp; https://evil.example',
];

const headings = new Set([
  '## Summary',
  '## Severity and clocks',
  '## Target',
  '## Timeline',
  '## Attack chain',
  '## Decisions',
  '## Evidence',
  '## Containment and recovery',
  '### Containment',
  '### Recovery',
  '## Root cause (five whys)',
  '## Hardening findings',
  '## Follow-up actions',
]);

function hostileRecord(payload: string): IncidentRecord {
  const target = {
    ...sampleTarget,
    pod: `checkout-${payload}`,
    labels: { app: payload, [`tier${payload}`]: 'web' },
    images: [{ container: `app${payload}`, image: payload, imageID: payload }],
  };
  const record = incidentRecordFor(target);
  return {
    ...record,
    rules: [payload],
    timeline: [...record.timeline, { at: payload, kind: 'alert', summary: payload, data: { rule: payload } }],
    gates: record.gates.map((gate) => ({ ...gate, reason: payload, decider: payload })),
    containment: record.containment.map((step) => ({ ...step, summary: payload, error: payload })),
    standDown: { reason: payload, by: payload, at: payload, liftContainment: false },
  };
}

/**
 * Removes inline code spans as CommonMark reads them: outside code a backslash escapes the next character, and a
 * run of backticks opens a span that the next run of the same length closes. An unclosed run stays as text.
 */
function withoutCode(line: string): string {
  let text = '';
  for (let index = 0; index < line.length;) {
    const character = line[index] ?? '';
    if (character === '\\') {
      text += line.slice(index, index + 2);
      index += 2;
      continue;
    }
    const run = /^`+/.exec(line.slice(index))?.[0];
    if (!run) {
      text += character;
      index += 1;
      continue;
    }
    const close = new RegExp(`(?<!\`)${run}(?!\`)`).exec(line.slice(index + run.length));
    if (close) {
      index += run.length + close.index + run.length;
    } else {
      text += run;
      index += run.length;
    }
  }
  return text;
}
/** Counts the pipes that split a GFM table row: those not escaped by a backslash. */
const cellSeparators = (line: string) => (line.match(/(?<!\\)\|/g) ?? []).length;

function expectNoInjection(markdown: string): void {
  const lines = markdown.split('\n');
  expect(lines[0]).toBe('# Incident report: incident-5e1f0c9a7b3d2e11');
  for (const line of lines.slice(1)) {
    if (line.startsWith('#')) expect(headings.has(line)).toBe(true);
    const prose = withoutCode(line);
    expect(prose).not.toMatch(/[<>]/);
    expect(prose).not.toMatch(/(?<!\\)\]\(/);
    expect(prose).not.toMatch(/(?<!\\)`/);
    expect(line).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200B-\u200F\u2028\u2029\uFEFF\r]/);
  }
  let columns: number | undefined;
  for (const line of lines) {
    if (!line.startsWith('|')) {
      columns = undefined;
      continue;
    }
    columns ??= cellSeparators(line);
    expect(cellSeparators(line)).toBe(columns);
  }
}

describe('renderMarkdown', () => {
  test.each(payloads)('keeps the report structure for %j', (payload) => {
    const evidence: EvidenceContext = {
      manifestPath: `/evidence/${payload}`,
      entries: [],
      pod: {
        spec: {
          containers: [{ name: payload, image: payload, securityContext: { capabilities: { add: [payload] } } }],
        },
      },
    };
    expectNoInjection(renderMarkdown(buildIncidentReport(hostileRecord(payload), evidence)));
  });

  test('shows an image with line breaks as escapes in one code span', () => {
    const [payload = ''] = payloads;
    const markdown = renderMarkdown(buildIncidentReport(hostileRecord(payload), undefined));
    const imageLine = markdown.split('\n').find((line) => line.startsWith('- Image of'));
    expect(imageLine).toContain(
      '`registry.example/app:1\\n\\n# Incident closed: false positive\\n\\n<img src=x onerror=alert(1)>`',
    );
  });

  test('leaves a title without an incident id when the id is not one', () => {
    const record = { ...incidentRecordFor(sampleTarget), incidentId: 'x\n# Closed' };
    expect(renderMarkdown(buildIncidentReport(record, undefined)).split('\n')[0]).toBe('# Incident report');
  });

  test('says when the chain was not checked against a recorded head', () => {
    const evidence: EvidenceContext = {
      manifestPath: '/evidence/incidents/incident-5e1f0c9a7b3d2e11/custody.jsonl',
      entries: [],
      verification: { ok: true, problems: [] },
      chain: { headSha256: 'a'.repeat(64), entryCount: 12 },
    };
    const markdown = renderMarkdown(buildIncidentReport(incidentRecordFor(sampleTarget), evidence));
    expect(markdown).toContain(`Custody chain head: \`${'a'.repeat(64)}\` after 12 entries.`);
    expect(markdown).toContain('was not checked against a head recorded at collection');
    expect(markdown).not.toContain('Verified against the head recorded at collection');
  });
});

describe('inlineCode', () => {
  test('uses a fence longer than any backtick run inside', () => {
    expect(inlineCode('a`b``c')).toBe('```a`b``c```');
    expect(inlineCode('`edge`')).toBe('`` `edge` ``');
  });

  test('escapes pipes only inside tables', () => {
    expect(inlineCode('x|y', 'table')).toBe('`x\\|y`');
    expect(inlineCode('x|y')).toBe('`x|y`');
  });

  test('shows control and bidirectional characters as escapes', () => {
    expect(inlineCode('a\nb\u202Ec\u0000')).toBe('`a\\nb\\u{202E}c\\u{0000}`');
  });
});

describe('escapeMarkdown', () => {
  test('breaks links and autolinks', () => {
    expect(escapeMarkdown('[x](javascript:alert(1)) https://evil.example www.evil.example')).toBe(
      '\\[x\\](javascript:alert(1)) https\\://evil.example www\\.evil.example',
    );
  });

  test('escapes entities so they show as typed', () => {
    expect(escapeMarkdown('&lt;b&gt;')).toBe('&amp;lt;b&amp;gt;');
  });
});
