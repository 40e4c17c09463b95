/**
 * Option objects are refused when they hold a key the receiver does not know: a misspelt option
 * (`maxAttempt`, `timeOut`) would otherwise be an option silently not applied.
 */

/** Throws a TypeError naming `label.key` when `options` sets a key outside `known` (to anything but undefined). */
export function refuseUnknownKeys(options: object, known: ReadonlySet<string>, label: string): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key) && (options as Record<string, unknown>)[key] !== undefined)
      throw new TypeError(`${label}.${key} is not an option here (use ${[...known].join(", ")})`);
  }
}
