/**
 * Escapes characters that a terminal or a CI log viewer would act on instead of printing. Text taken from an
 * alert (a rule name, a pod name) then cannot clear the screen, start a hyperlink, reorder the line or forge
 * a line of its own. Each such character is shown as a `\uXXXX` escape.
 */

/** C0 controls (line breaks and tabs included), DEL, C1 controls, and the Unicode line and bidi controls. */
// eslint-disable-next-line no-control-regex -- finding control characters is the purpose of this pattern
const controlCharacters = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The same without C0, for JSON text, where JSON.stringify has already escaped C0 inside strings. */
const controlCharactersBeyondC0 = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function unicodeEscape(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Returns the text with every control character escaped, for one line of terminal output. */
export function printable(text: string): string {
  return text.replace(controlCharacters, unicodeEscape);
}

/** Returns JSON text with the control characters that JSON.stringify leaves raw escaped; it stays valid JSON. */
export function printableJson(json: string): string {
  return json.replace(controlCharactersBeyondC0, unicodeEscape);
}
