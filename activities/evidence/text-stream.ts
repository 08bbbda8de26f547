import { StringDecoder } from 'node:string_decoder';
import type { LineRedactor } from './line-redactor';
import type { ByteSource } from './store';

/** Facts about a text artefact's bytes, recorded in its custody entry. */
export interface TextFacts {
  /** Bytes that are not valid UTF-8; a decoded copy replaces them with U+FFFD. */
  invalidUtf8: boolean;
  /** Control characters other than tab, line feed and carriage return, such as ANSI escape sequences. */
  controlCharacters: boolean;
}

/** Passes on at most `maxBytes` of `source`, sets `state.truncated` when there was more, and stops reading. */
export async function* capBytes(
  source: ByteSource,
  maxBytes: number,
  state: { truncated: boolean; bytes: number },
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    const room = maxBytes - state.bytes;
    if (buffer.length > room) {
      if (room > 0) yield buffer.subarray(0, room);
      state.bytes = maxBytes;
      state.truncated = true;
      return;
    }
    state.bytes += buffer.length;
    yield buffer;
  }
}

// C0 controls except tab, line feed and carriage return, and DEL. C1 controls are checked on decoded text.
const CONTROL_BYTE = (byte: number) =>
  (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) || byte === 0x7f;
const C1_CONTROL = /[\u0080-\u009f]/;

/** Passes `source` on unchanged while recording in `facts` whether it is valid UTF-8 and contains control characters. */
export async function* inspectText(source: AsyncIterable<Buffer>, facts: TextFacts): AsyncGenerator<Buffer> {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  for await (const chunk of source) {
    if (!facts.controlCharacters && chunk.some(CONTROL_BYTE)) facts.controlCharacters = true;
    if (!facts.invalidUtf8) {
      try {
        const text = strict.decode(chunk, { stream: true });
        if (!facts.controlCharacters && C1_CONTROL.test(text)) facts.controlCharacters = true;
      } catch {
        facts.invalidUtf8 = true;
      }
    }
    yield chunk;
  }
  if (!facts.invalidUtf8) {
    try {
      strict.decode();
    } catch {
      facts.invalidUtf8 = true;
    }
  }
}

/** Maximum length of a line held in memory, in UTF-16 code units; a longer line is redacted in pieces. */
export const MAX_LINE_CHARS = 1024 * 1024;
/** Text kept back from each piece of a long line, so that a secret across the cut is redacted whole. */
export const PIECE_OVERLAP_CHARS = 16 * 1024;
/** Text kept back at most; when no safe cut leaves less, the whole piece is redacted and written. */
const MAX_CARRY_CHARS = 256 * 1024;

/**
 * Applies `redactor` to each line of a byte stream. A line longer than MAX_LINE_CHARS is processed in pieces:
 * each piece is cut where no secret spans the cut and at least PIECE_OVERLAP_CHARS before its end, and the rest
 * is carried into the next piece. Bytes that are not valid UTF-8 become U+FFFD.
 */
export async function* mapLines(source: AsyncIterable<Uint8Array>, redactor: LineRedactor): AsyncGenerator<Buffer> {
  const decoder = new StringDecoder('utf8');
  const redactLines = (text: string) => text.split('\n').map(redactor.redactLine).join('\n');
  let pending = '';
  for await (const chunk of source) {
    pending += decoder.write(Buffer.from(chunk));
    const lastNewline = pending.lastIndexOf('\n');
    if (lastNewline >= 0) {
      yield Buffer.from(redactLines(pending.slice(0, lastNewline + 1)), 'utf8');
      pending = pending.slice(lastNewline + 1);
    }
    while (pending.length > MAX_LINE_CHARS) {
      const cut = pieceCut(pending, redactor);
      yield Buffer.from(redactor.redactLine(pending.slice(0, cut)), 'utf8');
      pending = pending.slice(cut);
    }
  }
  pending += decoder.end();
  if (pending !== '') yield Buffer.from(redactLines(pending), 'utf8');
}

function pieceCut(text: string, redactor: LineRedactor): number {
  const cut = redactor.safeCut(text, text.length - PIECE_OVERLAP_CHARS);
  // NOTE: a secret longer than the carry limit is cut; its part in the next piece may then stay readable.
  return cut < text.length - MAX_CARRY_CHARS ? text.length - PIECE_OVERLAP_CHARS : cut;
}
