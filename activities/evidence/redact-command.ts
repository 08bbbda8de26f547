import { REDACTED } from './redact-names';

/**
 * Redaction of passwords given on command lines, for programs that take them as arguments. This is best
 * effort. It covers a few programs and their flags, reads one line or argument list at a time, and cannot
 * tell a password from another value when a program takes it without a flag.
 */

/** Outcome of one argument: a replacement for the argument itself, or a request to hide the next argument. */
type ArgumentRule = (argument: string) => { redactNext?: boolean; replacement?: string } | undefined;

const gluedValue = (flag: string) => (argument: string) =>
  argument.startsWith(flag) && argument.length > flag.length ? { replacement: `${flag}${REDACTED}` } : undefined;

const separateValue =
  (...flags: string[]) =>
  (argument: string) =>
    flags.includes(argument) ? { redactNext: true } : undefined;

/** `user:password` keeps the user and hides the password. */
const userPassword = (value: string) => (value.includes(':') ? `${value.split(':')[0]}:${REDACTED}` : value);

const PROGRAM_RULES: { program: RegExp; rules: ArgumentRule[]; nextValue?: (value: string) => string }[] = [
  // mysql -pSECRET (a separate `-p` prompts for the password, so only the glued form carries one).
  { program: /^(mysql\w*|mariadb\w*)$/, rules: [gluedValue('-p')] },
  { program: /^redis-cli$/, rules: [separateValue('-a', '--pass', '--askpass'), gluedValue('--pass=')] },
  { program: /^sshpass$/, rules: [separateValue('-p'), gluedValue('-p')] },
  {
    program: /^curl$/,
    rules: [separateValue('-u', '--user', '-U', '--proxy-user'), curlGluedUser],
    nextValue: userPassword,
  },
];

function curlGluedUser(argument: string) {
  const glued = /^-[uU](.+:.*)$/.exec(argument)?.[1];
  return glued === undefined ? undefined : { replacement: `${argument.slice(0, 2)}${userPassword(glued)}` };
}

const programName = (argument: string) => argument.replace(/^['"]+|['"]+$/g, '').replace(/^.*\//, '');

/** One redaction made by `redactArguments`: the argument indexes it spans, from the program name on. */
export interface ArgumentSpan {
  from: number;
  to: number;
}

/**
 * Redacts passwords in an argument list. Arguments after a known program name follow that program's rules,
 * up to the next known program name. Returns the new list and, for each redaction, the span from the program
 * name to the redacted argument, so that streaming callers never cut between the two.
 */
export function redactArguments(argv: readonly string[]): { argv: string[]; spans: ArgumentSpan[] } {
  const result = [...argv];
  const spans: ArgumentSpan[] = [];
  let current: { index: number; rules: (typeof PROGRAM_RULES)[number] } | undefined;
  for (let index = 0; index < result.length; index += 1) {
    const argument = result[index] ?? '';
    const rules = PROGRAM_RULES.find((candidate) => candidate.program.test(programName(argument)));
    if (rules) {
      current = { index, rules };
      continue;
    }
    if (!current) continue;
    for (const rule of current.rules.rules) {
      const outcome = rule(argument);
      if (!outcome) continue;
      if (outcome.replacement !== undefined) {
        result[index] = outcome.replacement;
        spans.push({ from: current.index, to: index });
      } else if (outcome.redactNext && index + 1 < result.length) {
        const next = result[index + 1] ?? '';
        result[index + 1] = current.rules.nextValue ? current.rules.nextValue(next) : REDACTED;
        spans.push({ from: current.index, to: index + 1 });
        index += 1;
      }
      break;
    }
  }
  return { argv: result, spans };
}

/** Redacts command-line passwords in one line of text; returns the line and the character spans it redacted. */
export function redactCommandLine(text: string): { text: string; spans: { start: number; end: number }[] } {
  const parts = text.split(/(\s+)/);
  const words = parts.filter((_, index) => index % 2 === 0);
  const { argv, spans } = redactArguments(words);
  if (spans.length === 0) return { text, spans: [] };

  const offsets: number[] = [];
  let offset = 0;
  parts.forEach((part, index) => {
    if (index % 2 === 0) offsets.push(offset);
    offset += part.length;
  });
  const charSpans = spans.map(({ from, to }) => ({
    start: offsets[from] ?? 0,
    end: (offsets[to] ?? 0) + (words[to] ?? '').length,
  }));
  const joined = parts.map((part, index) => (index % 2 === 0 ? (argv[index / 2] ?? part) : part)).join('');
  return { text: joined, spans: charSpans };
}
