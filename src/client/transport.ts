/**
 * HTTP for the client: builds `/api/v1` URLs, adds the bearer token, and turns failures into two
 * error classes a caller can tell apart — the server answered with an error ({@link ZartHttpError}),
 * or no answer came at all ({@link ZartConnectionError}).
 */

export interface ClientOptions {
  /**
   * Server root, e.g. `http://127.0.0.1:7700` (the `/api/v1` prefix is added): an http(s) URL without a
   * query, fragment or credentials ({@link serverUrlProblem}).
   */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`: visible ASCII, no spaces ({@link tokenProblem}). */
  token?: string;
  /** Replaces the global fetch (tests, custom agents, capturing the raw response). */
  fetch?: typeof fetch;
  /**
   * Milliseconds a request may take, answer read in full, before it fails with a
   * {@link ZartConnectionError} of reason `request_timeout`; a long-poll wait gets its wait time on top.
   * Without it, only fetch's own limits apply (undici: 5 minutes for an answer's headers).
   */
  timeoutMs?: number;
}

/**
 * The longest {@link ClientOptions.timeoutMs} (about 23 days): with a wait's hold on top it must stay
 * within a timer's range (2^31 - 1 ms), beyond which Node fires timers at once.
 */
export const MAX_TIMEOUT_MS = 2_000_000_000;

/** The {@link ZartConnectionError} reason of a request that outlived {@link ClientOptions.timeoutMs}. */
export const REQUEST_TIMEOUT = "request_timeout";

/** What a request sends besides its method and path. */
export interface RequestParts {
  body?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** How long the server may hold this request on purpose (a long-poll), added to the timeout. */
  holdMs?: number;
}

/**
 * The server answered with the contract's error shape, or with something else: code `http_error` for a
 * failure that is not JSON, `invalid_response` for a success that is not JSON.
 */
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

/**
 * What makes `server` unusable as a client's server root, or `undefined` when nothing does. The API's
 * paths are appended to it, so a query or fragment would swallow them; credentials in it are refused by
 * fetch, and the token is what authenticates.
 */
export function serverUrlProblem(server: string): string | undefined {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return `must be a URL such as http://127.0.0.1:7700, got "${server}"`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `must be an http:// or https:// URL, got "${server}"`;
  // Not echoed: the URL holds a password.
  if (url.username !== "" || url.password !== "") return "must not contain a user name or password (user:password@): use a token";
  if (/[?#]/.test(server)) return `must not have a query (?…) or fragment (#…), got "${server}"`;
  return undefined;
}

/**
 * What makes `token` unusable as a bearer token, or `undefined` when nothing does: it goes into a header
 * as it is, so visible ASCII only (RFC 6750's token characters are a subset). Never echoed: it is a secret.
 */
export function tokenProblem(token: string): string | undefined {
  return /^[\x21-\x7e]+$/.test(token) ? undefined : "must hold only printable ASCII characters, without spaces or line breaks";
}

/**
 * No answer came: Node's fetch reports `TypeError: fetch failed` with the socket error as its cause. A
 * request fetch refuses to send (a URL or header it cannot use) is the caller's mistake, not this.
 */
function isNetworkFailure(error: unknown): boolean {
  return error instanceof TypeError && error.cause !== undefined;
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
  private readonly timeoutMs: number | undefined;

  constructor(options: ClientOptions) {
    const urlProblem = serverUrlProblem(options.baseUrl);
    if (urlProblem !== undefined) throw new TypeError(`baseUrl ${urlProblem}`);
    const badToken = options.token ? tokenProblem(options.token) : undefined;
    if (badToken !== undefined) throw new TypeError(`token ${badToken}`);
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && !(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS))
      throw new TypeError(`timeoutMs must be a number of milliseconds above 0 and at most ${MAX_TIMEOUT_MS}, got ${String(timeoutMs)}`);
    this.root = options.baseUrl.replace(/\/+$/, "");
    this.base = `${this.root}/api/v1`;
    this.headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    this.fetchFn = options.fetch ?? fetch;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Sends a request and parses the JSON answer (`undefined` for an empty one, e.g. 204). A success that is
   * not JSON came from something other than a Zart server: a `ZartHttpError` with code `invalid_response`.
   */
  async call<T>(method: string, path: string, body?: string, signal?: AbortSignal, headers?: Record<string, string>): Promise<T> {
    return this.exchange(method, path, { body, signal, headers }, (response) => this.readJson<T>(response, path));
  }

  /**
   * Sends a request and reads its 2xx answer with `read`, both within the client's timeout; throws for
   * everything else (see {@link send}).
   */
  async exchange<T>(method: string, path: string, parts: RequestParts, read: (response: Response) => Promise<T>): Promise<T> {
    if (this.timeoutMs === undefined) return read(await this.send(method, path, parts));
    const timeout = AbortSignal.timeout(this.timeoutMs + (parts.holdMs ?? 0));
    const signal = parts.signal === undefined ? timeout : AbortSignal.any([parts.signal, timeout]);
    try {
      return await read(await this.send(method, path, { ...parts, signal }));
    } catch (error) {
      if (!timeout.aborted || parts.signal?.aborted) throw error;
      throw new ZartConnectionError(this.root, Object.assign(new Error("no complete answer in time"), { code: REQUEST_TIMEOUT }));
    }
  }

  /** A 2xx answer's JSON (`undefined` when empty); `invalid_response` when it is not JSON (see {@link call}). */
  async readJson<T>(response: Response, path: string): Promise<T> {
    const text = await response.text();
    if (text === "") return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      const message = `the answer from ${this.base}${path} is not JSON (is it a Zart server?)`;
      throw new ZartHttpError(response.status, "invalid_response", message);
    }
  }

  /** Sends a request; resolves with any 2xx response, throws for everything else. */
  private async send(method: string, path: string, parts: RequestParts): Promise<Response> {
    const { body, signal } = parts;
    let headers = body === undefined ? this.headers : { ...this.headers, "content-type": "application/json" };
    if (parts.headers !== undefined) headers = { ...headers, ...parts.headers };
    let response: Response;
    try {
      response = await this.fetchFn(`${this.base}${path}`, { method, headers, body, signal });
    } catch (error) {
      if (signal?.aborted || !isNetworkFailure(error)) throw error;
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

/**
 * A path segment from a caller's string (ids and names may hold any character). But `.` and `..`, which
 * URLs drop as dot segments however they are escaped: the request would reach another route.
 */
export function segment(value: string): string {
  if (value === "." || value === "..")
    throw new TypeError(`"${value}" cannot be sent in a URL path (it would be dropped as a dot segment)`);
  return encodeURIComponent(value);
}
