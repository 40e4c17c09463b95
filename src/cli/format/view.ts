import type { Palette } from "./palette.js";
import { printable } from "./printable.js";

/** What a formatter needs besides the API's JSON: the current time and the colours. */
export interface View {
  /** Milliseconds since the epoch, for relative times. */
  now: number;
  palette: Palette;
}

/** A status word in its colour. */
export function paintStatus(status: string, view: View): string {
  return view.palette.status(status)(printable(status));
}

/** An id or name from the server in bold, made printable first. */
export function strong(text: string, view: View): string {
  return view.palette.bold(printable(text));
}

/**
 * "TimeoutError: SMTP timeout [ETIMEDOUT]": the error's name (unless plain Error), message and code, as
 * the server sent them (make it printable before it is printed).
 */
export function errorSummary(error: { message: string; name?: string; code?: string }): string {
  const name = error.name && error.name !== "Error" ? `${error.name}: ` : "";
  return `${name}${error.message}${error.code ? ` [${error.code}]` : ""}`;
}
