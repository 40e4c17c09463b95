import type { Palette } from "./palette.js";

/** What a formatter needs besides the API's JSON: the current time and the colours. */
export interface View {
  /** Milliseconds since the epoch, for relative times. */
  now: number;
  palette: Palette;
}

/** A status word in its colour. */
export function paintStatus(status: string, view: View): string {
  return view.palette.status(status)(status);
}
