/**
 * Colours for human output. Whether to colour is decided once at the edge (stdout a TTY, NO_COLOR
 * unset); formatters receive a palette whose functions are identities when colour is off, so they
 * stay pure and their output is plain text in pipes and tests.
 */
import picocolors from "picocolors";

type Paint = (text: string) => string;

export interface Palette {
  readonly enabled: boolean;
  readonly bold: Paint;
  readonly dim: Paint;
  readonly red: Paint;
  /** The colour of an execution or step status (pending, running, waiting, completed, failed, cancelled). */
  status(status: string): Paint;
}

export function createPalette(enabled: boolean): Palette {
  const c = picocolors.createColors(enabled);
  const byStatus: Record<string, Paint> = {
    pending: c.yellow,
    running: c.blue,
    waiting: c.magenta,
    completed: c.green,
    failed: c.red,
    cancelled: c.gray,
  };
  return {
    enabled,
    bold: c.bold,
    dim: c.dim,
    red: c.red,
    status: (status) => byStatus[status] ?? ((text) => text),
  };
}

/** For tests and `--json`: no colour at all. */
export const PLAIN: Palette = createPalette(false);
