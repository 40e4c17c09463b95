/**
 * Names and keys the stores keep as text and compare (idempotency and concurrency keys, event and step
 * names) must come back exactly as given, on either store. PostgreSQL text cannot hold NUL. Neither store
 * keeps an unpaired surrogate (a lone half of a UTF-16 pair, which JSON's `\ud800` escapes can carry):
 * PostgreSQL stores UTF-8, which has no encoding for one, and node-postgres sends U+FFFD in its place, so
 * two different keys would be stored as one; SQLite keeps the bytes but reads back U+FFFD. Such strings
 * are refused where they enter, with the field's usual error.
 * Why: docs/decisions/048-stored-text.md.
 */

/** With the `u` flag a well-formed pair is one code point, so only an unpaired surrogate matches. */
const UNPAIRED_SURROGATE = /\p{Cs}/u;

export function isStorableText(value: string): boolean {
  return !value.includes("\u0000") && !UNPAIRED_SURROGATE.test(value);
}

/** The words every such field's error message ends with. */
export const STORABLE_TEXT_RULE = "without NUL or unpaired surrogates";
