/**
 * Escaping of values for the Markdown report. Alert fields, pod specs and images are attacker-controlled (the
 * API server accepts an image name with line breaks), so every value is escaped for the place it goes:
 * running text and table cells, or inline code. No value may start a new line, a heading, a link or HTML.
 */

// Characters shown as escapes: C0 and C1 controls (line breaks included), line and paragraph separators,
// bidirectional controls (LRM, RLM, ALM, embeddings, overrides, isolates) and invisible format characters
// (zero-width space, joiner and non-joiner, word joiner, BOM).
const INVISIBLE =
  // eslint-disable-next-line no-control-regex -- matching control characters is this pattern's purpose
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Replaces invisible and layout-changing characters with visible escapes such as `\n` and `\u{202E}`. */
export function showInvisible(text: string): string {
  return text.replace(INVISIBLE, (character) => {
    const named = NAMED_ESCAPES[character];
    if (named) return named;
    const hex = (character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    return `\\u{${hex}}`;
  });
}

const HTML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Escapes a value for running text or a table cell. Invisible characters become escapes, and Markdown
 * punctuation gets a backslash (`|` included, so a value never splits a cell). `&`, `<` and `>` become entities,
 * so no HTML passes, and `://` and `www.` are broken so that the value does not turn into a link.
 */
export function escapeMarkdown(text: string): string {
  return showInvisible(text)
    .replace(/[\\`*_[\]#|~!]/g, (character) => `\\${character}`)
    .replace(/[&<>]/g, (character) => HTML_ENTITIES[character] ?? character)
    .replace(/:\/\//g, '\\://')
    .replace(/\b(www)\./gi, '$1\\.');
}

/**
 * Renders a value as inline code. A code span shows its content literally, so only what could end the span or
 * leave its line is changed. Invisible characters become escapes, the fence is longer than any run of backticks
 * inside, and in a table `|` is escaped as GFM tables require.
 */
export function inlineCode(value: string, where: 'text' | 'table' = 'text'): string {
  let text = showInvisible(value);
  if (where === 'table') text = text.replace(/\|/g, '\\|');
  if (text.trim() === '') return '-';
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const padding = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${padding}${text}${padding}${fence}`;
}
