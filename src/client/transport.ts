/**
 * HTTP for the client: builds `/api/v1` URLs, adds the bearer token, and turns failures into two
 * error classes a caller can tell apart — the server answered with an error ({@link ZartHttpError}),
 * or no answer came at all ({@link ZartConnectionError}).
 */

export interface ClientOptions {
  /** Server root, e.g. `http://127.0.0.1:7700` (the `/api/v1` prefix is added). */
  baseUrl: string;
  token?: string;
  /** Replaces the global fetch (tests, custom agents, capturing the raw response). */
  fetch?: typeof fetch;
}

/** The server answered with the contract's error shape (or a non-JSON failure: code `http_error`). */
export class ZartHttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ZartHttpError";
    this.status = status;
    this.code = code;
  }
}

/**
 * The request got no HTTP answer: nothing listens at the URL, the name does not resolve, the
 * connection dropped. `reason` is the system error code when there is one (`ECONNREFUSED`, …), else
 * the innermost cause's message.
 */
export class ZartConnectionError extends Error {
  readonly url: string;
  readonly reason: string | undefined;
  constructor(url: string, cause: unknown) {
    const reason = reasonOf(cause);
    super(`cannot reach ${url}${reason ? ` (${reason})` : ""}`, { cause });
    this.name = "ZartConnectionError";
    this.url = url;
    this.reason = reason;
  }
}

/** Node's fetch reports `TypeError: fetch failed` with the socket error as its cause. */
function reasonOf(error: unknown): string | undefined {
  let message: string | undefined;
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    message = e.message;
  }
  return message;
}

export class HttpTransport {
  /** The server root as given, without trailing slashes. */
  readonly root: string;
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly fetchFn: typeof fetch;

  constructor(options: ClientOptions) {
    this.root = options.baseUrl.replace(/\/+$/, "");
    this.base = `${this.root}/api/v1`;
    this.headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    this.fetchFn = options.fetch ?? fetch;
  }

  /** Sends a request and parses the JSON answer (`undefined` for an empty one, e.g. 204). */
  async call<T>(method: string, path: string, body?: string, signal?: AbortSignal, extraHeaders?: Record<string, string>): Promise<T> {
    const text = await (await this.send(method, path, body, signal, extraHeaders)).text();
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /** Sends a request; resolves with any 2xx response, throws for everything else. */
  async send(method: string, path: string, body?: string, signal?: AbortSignal, extraHeaders?: Record<string, string>): Promise<Response> {
    let headers = body === undefined ? this.headers : { ...this.headers, "content-type": "application/json" };
    if (extraHeaders !== undefined) headers = { ...headers, ...extraHeaders };
    let response: Response;
    try {
      response = await this.fetchFn(`${this.base}${path}`, { method, headers, body, signal });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ZartConnectionError(this.root, error);
    }
    if (response.ok) return response;
    throw await httpError(response);
  }
}

async function httpError(response: Response): Promise<ZartHttpError> {
  const text = await response.text();
  let code = "http_error";
  let message = `HTTP ${response.status}`;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    code = parsed.error?.code ?? code;
    message = parsed.error?.message ?? message;
  } catch {
    // Not the contract's error shape (a proxy in between, say): keep the status as the message.
  }
  return new ZartHttpError(response.status, code, message);
}

/** A path segment from a caller's string (ids and names may hold any character). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
