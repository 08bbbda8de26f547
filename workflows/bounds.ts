/**
 * Size measures and cuts for workflow state. The state travels through continue-as-new and the `status`
 * query, so anything that outside input can grow is measured in UTF-8 bytes and cut on character boundaries.
 * Pure code: workflow sandboxes have no Buffer.
 */

/** UTF-8 bytes of a string; a lone surrogate counts 3 bytes, as its replacement character is encoded. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        index++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** UTF-8 bytes of a value's JSON text; 0 for `undefined`. */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 0 : utf8Bytes(text);
}

/** Cuts text to at most `maxBytes` UTF-8 bytes on a code point boundary, ending in `…` when cut. */
export function cutToBytes(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  const ellipsis = '…';
  let used = utf8Bytes(ellipsis);
  let end = 0;
  for (const char of text) {
    used += utf8Bytes(char);
    if (used > maxBytes) break;
    end += char.length;
  }
  return `${text.slice(0, end)}${ellipsis}`;
}

/** Largest JSON size of the `data` of one timeline entry. */
export const maxEntryDataBytes = 4096;
/** Largest size of one timeline summary. */
export const maxSummaryBytes = 1024;
/** Largest JSON size of one value that survives when an entry's data is too large. */
const maxKeptValueBytes = 512;

/**
 * Returns the data of a timeline entry within `maxEntryDataBytes`. When it is larger, values over 512 bytes
 * are replaced by their size, and `cut` lists their keys.
 */
export function boundEntryData(data: Record<string, unknown>): Record<string, unknown> {
  if (jsonBytes(data) <= maxEntryDataBytes) return data;
  const kept: Record<string, unknown> = {};
  const cut: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    const bytes = jsonBytes(value);
    if (bytes <= maxKeptValueBytes && jsonBytes(kept) + bytes + utf8Bytes(key) < maxEntryDataBytes / 2) {
      kept[key] = value;
    } else {
      cut.push(`${cutToBytes(key, 64)} (${bytes} bytes)`);
    }
  }
  return { ...kept, cut: cut.slice(0, 20) };
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units, as 8 hex digits: a short stand-in for a long key. */
export function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
