import { REDACTED } from './redact-names';
import { redactEnvironment, type SecretEnvContext } from './redact';
import { opensPrivateKey, PRIVATE_KEY_END, redactText, safeCut } from './redact-text';

/** Redaction of a text stream line by line; it may keep state from one line to the next. */
export interface LineRedactor {
  /** Redacts one line without its line break, or one piece of a line too long to hold. */
  redactLine(line: string): string;
  /** Position at or before `limit` where a long line can be cut without splitting a secret; 0 when none. */
  safeCut(text: string, limit: number): number;
}

// Container log lines as the API server returns them with `timestamps=true`: an RFC 3339 time and a space.
const TIMESTAMP_PREFIX = /^(\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d) )?/;
// Lines inside a PEM block: base64 of at most 128 characters, or an RFC 1421 header such as `Proc-Type: 4,ENCRYPTED`.
const KEY_BODY_LINE = /^(?:[A-Za-z0-9+/=]{0,128}|(?:Proc-Type|DEK-Info|Content-Domain|Comment): [^\n]*)\s*$/;
// A 16384-bit RSA key takes about 200 lines; past that the block is taken to be over.
const MAX_KEY_LINES = 200;

/**
 * Redacts free text such as logs and process lists. A private key printed over several lines is hidden to its
 * END line: each following line that looks like key material is replaced, keeping its log timestamp. The first
 * line that does not ends the block, so text that only starts like a key cannot hide the rest of a log.
 */
export function textLineRedactor(context: SecretEnvContext): LineRedactor {
  let keyLines: number | undefined;
  return {
    redactLine(line) {
      if (keyLines !== undefined) {
        const prefix = TIMESTAMP_PREFIX.exec(line)?.[0] ?? '';
        const content = line.slice(prefix.length);
        const end = PRIVATE_KEY_END.exec(content);
        if (end) {
          keyLines = undefined;
          return `${prefix}${REDACTED}${redactText(content.slice(end.index), context)}`;
        }
        if (keyLines < MAX_KEY_LINES && KEY_BODY_LINE.test(content)) {
          keyLines += 1;
          return `${prefix}${REDACTED}`;
        }
        keyLines = undefined;
      }
      if (opensPrivateKey(line)) keyLines = 0;
      return redactText(line, context);
    },
    safeCut: (text, limit) => safeCut(text, limit, context),
  };
}

/** Redacts `NAME=value` entries separated by NUL bytes or line breaks, as in /proc/PID/environ. */
export function environmentLineRedactor(context: SecretEnvContext): LineRedactor {
  return {
    redactLine: (line) => redactEnvironment(line, context),
    safeCut(text, limit) {
      const separator = Math.max(text.lastIndexOf('\0', limit - 1), text.lastIndexOf('\n', limit - 1));
      return separator + 1;
    },
  };
}
