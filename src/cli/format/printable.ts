/**
 * Text from the server made safe to print on a terminal. Names, errors, idempotency keys and the like
 * are whatever a task or an API caller wrote, so they may hold escape sequences that would recolour,
 * clear or retitle the operator's terminal, or a carriage return that overwrites what was printed.
 * Every control character (C0, DEL, C1) and every bidirectional override is shown as an escape instead:
 * `\n`, `\r`, `\t`, else `\u001b` and the like, as JSON writes them.
 */

/** What JSON.stringify leaves in its output as it is, though a terminal acts on it. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what this finds
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

function escapeChar(char: string): string {
  return NAMED[char] ?? unicodeEscape(char);
}

/** `text` on one line, with no character a terminal would act on. */
export function printable(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Like {@link printable}, but line breaks stay: each line of `text`, made printable, after `indent`. */
export function printableLines(text: string, indent: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => indent + printable(line))
    .join("\n");
}

/**
 * JSON text with the characters JSON.stringify leaves as they are but a terminal acts on (DEL, C1,
 * bidirectional overrides) written as `\uXXXX`: the same JSON value, safe to print.
 */
export function printableJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, unicodeEscape);
}
