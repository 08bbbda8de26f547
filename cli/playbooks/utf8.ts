import { isUtf8 } from 'node:buffer';

/** Locates bytes that are not UTF-8, so a playbook file error can name the offset, line and column. */

export interface InvalidUtf8 {
  /** 0-based offset of the first invalid byte. */
  offset: number;
  byte: number;
  /** 1-based line and column of that byte; the column counts bytes. */
  line: number;
  column: number;
}

/** Returns where the first invalid UTF-8 sequence starts (RFC 3629), or undefined when every byte is valid. */
export function findInvalidUtf8(bytes: Uint8Array): InvalidUtf8 | undefined {
  if (isUtf8(bytes)) {
    return undefined;
  }
  let offset = 0;
  while (offset < bytes.length) {
    const length = sequenceLength(bytes, offset);
    if (length === 0) {
      return positionOf(bytes, offset);
    }
    offset += length;
  }
  return undefined;
}

/** Returns the length of the valid UTF-8 sequence at `offset`, or 0 when the bytes there are not one. */
function sequenceLength(bytes: Uint8Array, offset: number): number {
  const first = bytes[offset] ?? 0;
  if (first < 0x80) {
    return 1;
  }
  const length = leadByteLength(first);
  if (length === 0) {
    return 0;
  }

  // The second byte has a narrower range after E0, ED, F0 and F4, which excludes overlong forms, UTF-16
  // surrogates and code points above U+10FFFF.
  let lower = 0x80;
  let upper = 0xbf;
  if (first === 0xe0) lower = 0xa0;
  if (first === 0xf0) lower = 0x90;
  if (first === 0xed) upper = 0x9f;
  if (first === 0xf4) upper = 0x8f;
  const second = bytes[offset + 1];
  if (second === undefined || second < lower || second > upper) {
    return 0;
  }
  for (let index = offset + 2; index < offset + length; index++) {
    const next = bytes[index];
    if (next === undefined || (next & 0xc0) !== 0x80) {
      return 0;
    }
  }
  return length;
}

/** Returns the sequence length that a lead byte announces, or 0 for a byte that cannot start a sequence. */
function leadByteLength(first: number): number {
  if (first >= 0xc2 && first <= 0xdf) return 2;
  if (first >= 0xe0 && first <= 0xef) return 3;
  if (first >= 0xf0 && first <= 0xf4) return 4;
  return 0;
}

function positionOf(bytes: Uint8Array, offset: number): InvalidUtf8 {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset; index++) {
    if (bytes[index] === 0x0a) {
      line++;
      lineStart = index + 1;
    }
  }
  return { offset, byte: bytes[offset] ?? 0, line, column: offset - lineStart + 1 };
}
