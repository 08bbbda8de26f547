import { textLineRedactor } from '../../../activities/evidence/line-redactor';
import { emptySecretEnvContext, REDACTED } from '../../../activities/evidence/redact';
import {
  inspectText,
  MAX_LINE_CHARS,
  mapLines,
  PIECE_OVERLAP_CHARS,
  type TextFacts,
} from '../../../activities/evidence/text-stream';

const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlLXNlY3JldA';

async function redactChunks(chunks: string[]): Promise<string> {
  async function* source() {
    for (const chunk of chunks) yield Buffer.from(chunk, 'utf8');
  }
  const out: Buffer[] = [];
  for await (const piece of mapLines(source(), textLineRedactor(emptySecretEnvContext()))) out.push(piece);
  return Buffer.concat(out).toString('utf8');
}

async function factsOf(chunks: Buffer[]): Promise<TextFacts> {
  const facts: TextFacts = { invalidUtf8: false, controlCharacters: false };
  async function* source() {
    yield* chunks;
  }
  for await (const chunk of inspectText(source(), facts)) expect(Buffer.isBuffer(chunk)).toBe(true);
  return facts;
}

describe('mapLines', () => {
  test('redacts a key=value pair split at the piece boundary', async () => {
    const pad = 'a'.repeat(MAX_LINE_CHARS - 5);
    const text = await redactChunks([`${pad} token=`, 'hunter2 tail', '\n']);
    expect(text).not.toContain('hunter2');
    expect(text).toContain(`token=${REDACTED} tail`);
    expect(text.length).toBe(pad.length + ` token=${REDACTED} tail\n`.length);
  });

  test('redacts a token split at the piece boundary', async () => {
    const pad = 'a'.repeat(MAX_LINE_CHARS - 20);
    const text = await redactChunks([`${pad} ${jwt.slice(0, 30)}`, `${jwt.slice(30)} end\n`]);
    expect(text).not.toContain('c2lnbmF0dXJlLXNlY3JldA');
    expect(text).toContain(`${REDACTED} end`);
  });

  test('carries a value that continues into the next chunk', async () => {
    const pad = 'b'.repeat(MAX_LINE_CHARS - 100);
    const text = await redactChunks([`${pad} password=${'x'.repeat(200)}`, `${'y'.repeat(100)} more\n`]);
    expect(text).not.toMatch(/xxx|yyy/);
    expect(text).toContain(`password=${REDACTED} more`);
  });

  test('does not cut inside a secret that spans the overlap', async () => {
    const pad = 'b'.repeat(MAX_LINE_CHARS + 1000 - PIECE_OVERLAP_CHARS - 10);
    const value = 'x'.repeat(PIECE_OVERLAP_CHARS);
    const text = await redactChunks([`${pad} password=${value}`, `${'z'.repeat(50)} more\n`]);
    expect(text).not.toMatch(/xxx|zzz/);
    expect(text).toContain(`password=${REDACTED} more`);
  });

  test('keeps every byte of a long line without secrets', async () => {
    const line = 'c'.repeat(3 * MAX_LINE_CHARS + 17);
    const chunks = line.match(/.{1,65536}/g) ?? [];
    expect(await redactChunks([...chunks, '\n'])).toBe(`${line}\n`);
  });
});

describe('inspectText', () => {
  test('marks bytes that are not valid UTF-8', async () => {
    expect((await factsOf([Buffer.from([0x61, 0xff, 0xfe, 0x0a])])).invalidUtf8).toBe(true);
  });

  test('accepts a character split across chunks', async () => {
    const euro = Buffer.from('€', 'utf8');
    const facts = await factsOf([euro.subarray(0, 1), euro.subarray(1)]);
    expect(facts).toEqual({ invalidUtf8: false, controlCharacters: false });
  });

  test('marks a sequence cut at the end of the text', async () => {
    expect((await factsOf([Buffer.from('€', 'utf8').subarray(0, 2)])).invalidUtf8).toBe(true);
  });

  test('marks ANSI escapes as control characters', async () => {
    const facts = await factsOf([Buffer.from('\u001b]0;owned\u0007\u001b[2J ansi\n')]);
    expect(facts.controlCharacters).toBe(true);
  });

  test('marks C1 controls as control characters', async () => {
    expect((await factsOf([Buffer.from('next line\u0085here', 'utf8')])).controlCharacters).toBe(true);
  });

  test('leaves tabs and line breaks unmarked', async () => {
    expect((await factsOf([Buffer.from('a\tb\r\nc\n')])).controlCharacters).toBe(false);
  });
});
