/**
 * The context each client command runs in: a client for the resolved server, the terminal, and
 * `show()`, which prints either the API's JSON exactly as it arrived (`--json`) or the formatted text.
 * The raw body is captured from the client's own fetch, so `--json` never re-serialises a value.
 */
import { ZartClient } from "../../client/index.js";
import type { ClientSettings } from "../client-settings.js";
import { createPalette } from "../format/palette.js";
import type { View } from "../format/view.js";
import type { Terminal } from "../terminal.js";

export interface ClientContext {
  readonly settings: ClientSettings;
  readonly terminal: Terminal;
  /** The client whose last answer `show()` and error reports print under `--json`. */
  readonly client: ZartClient;
  /** A client for background polls (the spinner): its answers never become the printed one. */
  readonly pollingClient: ZartClient;
  /** The body of the last answer `client` received, exactly as sent. */
  lastBody(): string | undefined;
  view(): View;
  /** Prints the answer; returns `undefined` (exit code 0) so a command body can end with it. */
  show<T>(value: T, format: (value: T, view: View) => string): undefined;
}

function capturingFetch(): { fetch: typeof fetch; last: () => string | undefined } {
  let last: string | undefined;
  const capture: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    last = await response.clone().text();
    return response;
  };
  return { fetch: capture, last: () => last };
}

export function createClientContext(settings: ClientSettings, terminal: Terminal): ClientContext {
  const captured = capturingFetch();
  const palette = createPalette(terminal.colors);
  const view = (): View => ({ now: terminal.now(), palette });
  const connection = { baseUrl: settings.server, token: settings.token, timeoutMs: settings.requestTimeoutMs };
  return {
    settings,
    terminal,
    client: new ZartClient({ ...connection, fetch: captured.fetch }),
    pollingClient: new ZartClient(connection),
    lastBody: captured.last,
    view,
    show(value, format) {
      terminal.out(settings.json ? captured.last() || JSON.stringify(value) : format(value, view()));
      return undefined;
    },
  };
}
