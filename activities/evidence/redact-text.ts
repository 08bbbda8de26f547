import { redactCommandLine } from './redact-command';
import { isSecretName, REDACTED } from './redact-names';

/** Names of environment variables that a pod sets from Secrets (`valueFrom.secretKeyRef`). */
export interface TextRedactionContext {
  secretEnvNames: ReadonlySet<string>;
}

const noSecretEnv: TextRedactionContext = { secretEnvNames: new Set() };

/**
 * One redaction rule: a global pattern, and the replacement of a match, or undefined when the match contains no
 * secret (its key is not a secret name). After such a match the scan resumes behind the match's first group,
 * so a non-secret `a=b=password=x` cannot hide the secret pair inside its value.
 */
interface TextRule {
  pattern: RegExp;
  redact: (match: RegExpExecArray, context: TextRedactionContext) => string | undefined;
}

/** A redaction found in a text: the replaced span and its replacement. */
interface Redaction {
  start: number;
  end: number;
  replacement: string;
}

const PRIVATE_KEY_BEGIN = /-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----/;
const PRIVATE_KEY_END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;
const SECRET_FLAG_WORDS = 'token|passw(?:or)?d|secret|api[_-]?key|access[_-]?key|private[_-]?key|credential';

/** True when `key` names a secret, or a variable that the pod sets from a Secret. */
const secretKey = (key: string, context: TextRedactionContext) => isSecretName(key) || context.secretEnvNames.has(key);

/** Keeps the quotes around a redacted value, so that `password='x'` becomes `password='[REDACTED]'`. */
function quotedRedaction(value: string): string {
  const quote = value[0];
  return (quote === '"' || quote === "'") && value.endsWith(quote) && value.length > 1
    ? `${quote}${REDACTED}${quote}`
    : REDACTED;
}

const group = (match: RegExpExecArray, index: number) => match[index] ?? '';

/**
 * Text rules, applied in order. Vendor token formats are matched anywhere; other values only after a key,
 * header or flag whose name marks a secret.
 */
const TEXT_RULES: TextRule[] = [
  // A private key block, to its END line or, when that is missing, to the end of the text.
  {
    pattern: new RegExp(`${PRIVATE_KEY_BEGIN.source}[\\s\\S]*?(?:-----END \\1-----|$)`, 'g'),
    redact: (match) => `-----BEGIN ${group(match, 1)}-----${REDACTED}-----END ${group(match, 1)}-----`,
  },
  { pattern: /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, redact: () => REDACTED },
  // AWS access key ids, GitHub, GitLab, Stripe, Slack and Google API tokens.
  { pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, redact: () => REDACTED },
  {
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,})/g,
    redact: () => REDACTED,
  },
  { pattern: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{6,}/g, redact: () => REDACTED },
  { pattern: /\bxox[abposre]-[A-Za-z0-9-]{6,}|\bxapp-[A-Za-z0-9-]{6,}/g, redact: () => REDACTED },
  { pattern: /\bAIza[0-9A-Za-z_-]{35}/g, redact: () => REDACTED },
  // AWS secret access keys: 40 base64 characters mixing upper case, lower case and digits (hex hashes do not).
  {
    pattern:
      /(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}\d)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    redact: () => REDACTED,
  },
  // Credentials in URLs: scheme://user:password@host.
  {
    pattern: /\b([a-z][a-z0-9+.-]{0,30}:\/\/[^\s:/@'"<>]{0,256}:)[^\s/@'"<>]{1,256}@/gi,
    redact: (match) => `${group(match, 1)}${REDACTED}@`,
  },
  {
    pattern: /\b((?:proxy-)?authorization\s*[:=]\s*)(?:(bearer|basic|token|digest)\s+)?[^\s'",;]+/gi,
    redact: (match) => `${group(match, 1)}${match[2] ? `${match[2]} ` : ''}${REDACTED}`,
  },
  {
    pattern: /\b((?:x-api-key|api-key|x-auth-token|x-access-token|private-token|set-cookie|cookie)\s*:\s*)[^\r\n"']+/gi,
    redact: (match) => `${group(match, 1)}${REDACTED}`,
  },
  // JSON members: "key": "value".
  {
    pattern: /"([^"\n]{1,200})"(\s*:\s*)"(?:[^"\\\n]|\\.)*"/g,
    redact: (match, context) =>
      secretKey(group(match, 1), context) ? `"${group(match, 1)}"${group(match, 2)}"${REDACTED}"` : undefined,
  },
  // Flags with a separate value: --password hunter2.
  {
    pattern: new RegExp(`((?:^|\\s)--?[\\w-]{0,40}(?:${SECRET_FLAG_WORDS})[\\w-]{0,40}[ \\t]+)(?!-)[^\\s'"]+`, 'gim'),
    redact: (match) => `${group(match, 1)}${REDACTED}`,
  },
  // key=value, key: value, key='value': env assignments, query strings, YAML and flags with `=`.
  {
    pattern:
      /(?<![\w.-])(-{0,2}[A-Za-z_][\w.-]*)([ \t]*(?::(?!\/\/)|=)[ \t]*)("[^"\n]{0,1000}"|'[^'\n]{0,1000}'|[^\s"'&;,]+)/g,
    redact: (match, context) =>
      secretKey(group(match, 1).replace(/^-+/, ''), context)
        ? `${group(match, 1)}${group(match, 2)}${quotedRedaction(group(match, 3))}`
        : undefined,
  },
];

function findRedactions(text: string, rule: TextRule, context: TextRedactionContext): Redaction[] {
  const pattern = new RegExp(rule.pattern.source, rule.pattern.flags);
  const found: Redaction[] = [];
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const replacement = rule.redact(match, context);
    if (replacement === undefined) {
      pattern.lastIndex = match.index + Math.max(1, group(match, 1).length);
      continue;
    }
    found.push({ start: match.index, end: match.index + match[0].length, replacement });
    if (match[0] === '') pattern.lastIndex += 1;
  }
  return found;
}

function applyRule(text: string, rule: TextRule, context: TextRedactionContext): string {
  let result = '';
  let position = 0;
  for (const redaction of findRedactions(text, rule, context)) {
    result += text.slice(position, redaction.start) + redaction.replacement;
    position = redaction.end;
  }
  return result + text.slice(position);
}

/**
 * Replaces secrets in free text: private keys, known token formats, credentials in URLs and secret headers.
 * It also hides the values of `name=value` and `name: value` pairs whose name marks a secret or is set from a
 * Secret, and command-line passwords of a few programs (best effort, see redact-command.ts).
 */
export function redactText(text: string, context: TextRedactionContext = noSecretEnv): string {
  const redacted = TEXT_RULES.reduce((current, rule) => applyRule(current, rule, context), text);
  return redactCommandLine(redacted).text;
}

/**
 * Largest position at or before `limit` that no redaction of `text` spans, so that the text can be redacted in
 * two parts with the same result. Returns 0 when every such position is inside a redaction.
 */
export function safeCut(text: string, limit: number, context: TextRedactionContext = noSecretEnv): number {
  const spans = [
    ...redactCommandLine(text).spans,
    ...TEXT_RULES.flatMap((rule) => findRedactions(text, rule, context)),
  ];
  let cut = Math.max(0, Math.min(limit, text.length));
  for (let moved = true; moved && cut > 0;) {
    moved = false;
    for (const span of spans) {
      if (span.start < cut && cut < span.end) {
        cut = span.start;
        moved = true;
      }
    }
  }
  return cut;
}

/** True when `line` starts a private key block that it does not also end. */
export function opensPrivateKey(line: string): boolean {
  const begins = [...line.matchAll(new RegExp(PRIVATE_KEY_BEGIN.source, 'g'))];
  const last = begins.at(-1);
  return last !== undefined && !PRIVATE_KEY_END.test(line.slice(last.index));
}

export { PRIVATE_KEY_END };
