/**
 * One raw HTTP/1.1 exchange over a TCP socket, for requests `fetch` refuses to send (garbage request
 * lines, broken framing), a connection written to piece by piece (a body sent in parts, around a
 * server's shutdown, say), and a reader for the first final response in what came back. Nothing is
 * swallowed: a socket error, a timeout and a truncated response are all part of the result, so a test
 * can tell "answered, then reset" from "never answered".
 */
import { connect, type Socket } from "node:net";

export interface RawExchange {
  /** Every byte the server sent, as latin1 text. */
  text: string;
  /** The socket error, if any (its code, e.g. ECONNRESET); no data arrives after it. */
  error: string | null;
  timedOut: boolean;
}

export interface RawResponse {
  status: number;
  /** Status line and headers, without the blank line. */
  head: string;
  body: string;
}

/**
 * Sends `raw` and half-closes the socket (the request ends where its bytes end, so a server that waits
 * for more body bytes than were framed sees the end of the stream and must answer instead of waiting),
 * then collects the answer until the server closes, for at most `timeoutMs`.
 */
export function rawExchange(port: number, raw: string, timeoutMs = 5000): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const result: RawExchange = { text: "", error: null, timedOut: false };
    const timer = setTimeout(() => {
      result.timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      result.error = error.code ?? error.message;
    });
    socket.on("close", () => {
      clearTimeout(timer);
      result.text = Buffer.concat(chunks).toString("latin1");
      resolve(result);
    });
    socket.end(raw, "latin1");
  });
}

/**
 * The first final (non-1xx) response in `text`, or null when none is complete: its head must end and
 * its body must be as long as its Content-Length (or, without one, run to the close, when `closed`).
 * `bodyless` is for answers to HEAD, which carry a length but no body.
 */
export function firstResponse(text: string, closed: boolean, bodyless = false): RawResponse | null {
  let rest = text;
  for (;;) {
    const status = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?\r\n/.exec(rest);
    if (!status) return null;
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) return null;
    const head = rest.slice(0, end);
    const afterHead = rest.slice(end + 4);
    const code = Number(status[1]);
    if (code >= 100 && code < 200) {
      rest = afterHead;
      continue;
    }
    if (bodyless || code === 204 || code === 304) return { status: code, head, body: "" };
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length) {
      const size = Number(length[1]);
      return afterHead.length >= size ? { status: code, head, body: afterHead.slice(0, size) } : null;
    }
    if (/\r\ntransfer-encoding: *chunked/i.test(head)) return dechunk(code, head, afterHead);
    return closed ? { status: code, head, body: afterHead } : null;
  }
}

function dechunk(status: number, head: string, text: string): RawResponse | null {
  let body = "";
  let rest = text;
  for (;;) {
    const line = /^([0-9a-f]+)[^\r\n]*\r\n/i.exec(rest);
    if (!line) return null;
    const size = Number.parseInt(line[1]!, 16);
    rest = rest.slice(line[0].length);
    if (size === 0) return { status, head, body };
    if (rest.length < size + 2) return null;
    body += rest.slice(0, size);
    rest = rest.slice(size + 2);
  }
}

/** A raw connection written to piece by piece: what it received so far, and when the server ended it. */
export interface RawConnection {
  socket: Socket;
  received(): string;
  /** Resolves once what was received holds `text`. */
  receivedText(text: string): Promise<void>;
  closed: Promise<void>;
}

export function openRawConnection(port: number): RawConnection {
  const socket = connect(port, "127.0.0.1");
  let text = "";
  socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  return {
    socket,
    received: () => text,
    receivedText: (wanted) =>
      new Promise((resolve) => {
        const check = () => (text.includes(wanted) ? resolve() : socket.once("data", check));
        check();
      }),
    closed,
  };
}
