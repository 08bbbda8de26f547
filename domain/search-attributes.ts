/**
 * Names of the search attributes the incident workflow upserts, and their Temporal types. Every Temporal
 * namespace that runs Firebreak must register them (`temporal operator search-attribute create`).
 */
export const incidentSearchAttributes = {
  phase: { name: 'FirebreakPhase', type: 'KEYWORD' },
  severity: { name: 'FirebreakSeverity', type: 'KEYWORD' },
  namespace: { name: 'FirebreakNamespace', type: 'KEYWORD' },
  workload: { name: 'FirebreakWorkload', type: 'KEYWORD' },
  node: { name: 'FirebreakNode', type: 'KEYWORD' },
  rule: { name: 'FirebreakRule', type: 'KEYWORD' },
  /** The gate waiting for a decision, or `none`. */
  gate: { name: 'FirebreakGate', type: 'KEYWORD' },
  alertCount: { name: 'FirebreakAlertCount', type: 'INT' },
} as const;

/**
 * Largest keyword search attribute value that Firebreak sends, in bytes of its JSON text. The Temporal server
 * rejects a value above 2 KiB by default (a dynamic configuration setting) with INVALID_ARGUMENT, which would
 * fail the whole request or workflow task. Half of that leaves a margin.
 */
export const maxSearchAttributeValueBytes = 1024;

const shortEscapes = new Set(['"', '\\', '\b', '\f', '\n', '\r', '\t']);

/** Bytes of one code point in UTF-8 JSON text, escapes included. */
function jsonTextBytes(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  if (shortEscapes.has(char)) {
    return 2;
  }
  if (code < 0x20 || (code >= 0xd800 && code <= 0xdfff)) {
    return 6;
  }
  if (code < 0x80) {
    return 1;
  }
  if (code < 0x800) {
    return 2;
  }
  return code < 0x10000 ? 3 : 4;
}

/**
 * Cuts a search attribute value so that its JSON text, quotes included, has at most `maxBytes` bytes, on a
 * character boundary. The alert keeps the full value; only the indexed copy is cut. Pure code with no Node
 * imports, so the intake and the workflow share it.
 */
export function cutSearchAttributeValue(value: string, maxBytes = maxSearchAttributeValueBytes): string {
  let usedBytes = 2;
  let end = 0;
  for (const char of value) {
    usedBytes += jsonTextBytes(char);
    if (usedBytes > maxBytes) {
      return value.slice(0, end);
    }
    end += char.length;
  }
  return value;
}
