/**
 * Escaping for text that reaches Slack mrkdwn. Attacker-controlled values (command lines, file names, rule
 * output) pass through these functions so that they can never mention people, form links or change the
 * layout of a message.
 *
 * Slack reads `&`, `<` and `>` as control characters and documents their HTML entity escapes
 * (https://api.slack.com/reference/surfaces/formatting#escaping). Mrkdwn has no escape for the formatting
 * delimiters, so values are either shown inside code, where Slack applies no formatting, or have the
 * delimiters replaced by lookalike characters.
 */

const ellipsis = '…';

const controlEntities: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** Lookalikes for the mrkdwn delimiters: asterisk operator, fullwidth low line, tilde operator, modifier grave. */
const delimiterLookalikes: Readonly<Record<string, string>> = {
  '*': '\u2217',
  _: '\uFF3F',
  '~': '\u223C',
  '`': '\u02CB',
};

/** `@channel`, `@here` and `@everyone` get a fullwidth commercial at, which Slack never reads as a mention. */
const broadcastMentionPattern = /@(?=(?:channel|here|everyone)\b)/gi;

/**
 * Characters that change reading order or hide text, shown as U+FFFD: bidirectional embeddings, overrides and
 * isolates (which can make a file name read backwards), the marks LRM, RLM and ALM, zero-width space and
 * non-joiner, word joiner and BOM. A zero-width joiner is kept only inside an emoji sequence, where it joins
 * two pictographs.
 */
const invisibleControlPattern = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u200B\u200C\u2060\uFEFF]/g;
const zeroWidthJoiner = '\u200D';
const emojiSequencePattern = /^\p{Extended_Pictographic}.*\u200D\p{Extended_Pictographic}/u;

/** Replaces each zero-width joiner that does not join two pictographs in one emoji sequence. */
function replaceLooseJoiners(text: string): string {
  if (!text.includes(zeroWidthJoiner)) {
    return text;
  }
  return splitGraphemes(text)
    .map((grapheme) =>
      emojiSequencePattern.test(grapheme) ? grapheme : grapheme.replaceAll(zeroWidthJoiner, '\uFFFD'),
    )
    .join('');
}

/** C0 and C1 control characters other than tab and line feed. */
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's purpose
const controlCharacterPattern = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

const lineBreakPattern = /\r\n|[\r\n\u2028\u2029]/g;

const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Splits text into user-perceived characters, so that a cut never separates a surrogate pair or an emoji sequence. */
export function splitGraphemes(text: string): string[] {
  return Array.from(graphemeSegmenter.segment(text), (part) => part.segment);
}

/**
 * Escapes each grapheme and keeps as many as fit in `maxLength` UTF-16 code units, ending with an ellipsis
 * when the value was cut. Slack counts characters, which never exceed UTF-16 code units, so the result fits.
 */
export function cutEscaped(text: string, maxLength: number, escapeGrapheme: (grapheme: string) => string): string {
  const escaped = splitGraphemes(text).map(escapeGrapheme);
  const fullLength = escaped.reduce((total, part) => total + part.length, 0);
  if (fullLength <= maxLength) {
    return escaped.join('');
  }

  let kept = '';
  for (const part of escaped) {
    if (kept.length + part.length + ellipsis.length > maxLength) {
      break;
    }
    kept += part;
  }
  return kept + ellipsis;
}

/** Cuts plain text (no escaping) to `maxLength` on grapheme boundaries, for plain_text objects and fallbacks. */
export function cutPlain(text: string, maxLength: number): string {
  return cutEscaped(text, maxLength, (grapheme) => grapheme);
}

function escapeControl(grapheme: string): string {
  return grapheme.replace(/[&<>]/g, (character) => controlEntities[character] ?? character);
}

/** Removes characters that change layout or reading order, and neutralises broadcast mentions. */
function sanitise(text: string, keepLineBreaks: boolean): string {
  const lines = text.replace(lineBreakPattern, keepLineBreaks ? '\n' : ' ');
  return replaceLooseJoiners(lines)
    .replace(/\t/g, keepLineBreaks ? '\t' : ' ')
    .replace(controlCharacterPattern, '')
    .replace(invisibleControlPattern, '\uFFFD')
    .replace(broadcastMentionPattern, '\uFF20');
}

/**
 * Escapes a value for mrkdwn prose on one line. A formatting delimiter is replaced by its lookalike only when it
 * occurs at least twice in the value, because mrkdwn formats a span between two equal delimiters and a single
 * one stays literal.
 */
export function escapeMrkdwn(value: string, maxLength: number): string {
  const text = sanitise(value, false);
  const pairedDelimiters = new Set(
    Object.keys(delimiterLookalikes).filter((delimiter) => text.split(delimiter).length > 2),
  );
  return cutEscaped(text, maxLength, (grapheme) => {
    const lookalike = pairedDelimiters.has(grapheme) ? delimiterLookalikes[grapheme] : undefined;
    return escapeControl(lookalike ?? grapheme);
  });
}

function escapeInsideCode(grapheme: string): string {
  return escapeControl(grapheme === '`' ? (delimiterLookalikes['`'] ?? grapheme) : grapheme);
}

/** Renders a value as inline code on one line; backticks inside become lookalikes so the span cannot close early. */
export function inlineCode(value: string, maxLength: number): string {
  const text = sanitise(value, false).trim();
  if (text === '') {
    return '_(empty)_';
  }
  return `\`${cutEscaped(text, maxLength - 2, escapeInsideCode)}\``;
}

/** Renders a value as a code block that keeps its line breaks. */
export function codeBlock(value: string, maxLength: number): string {
  const text = sanitise(value, true).replace(/^\n+|\n+$/g, '');
  if (text.trim() === '') {
    return '_(empty)_';
  }
  return `\`\`\`${cutEscaped(text, maxLength - 6, escapeInsideCode)}\`\`\``;
}
