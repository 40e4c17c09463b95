// @ts-check
/**
 * Every call to the server goes through `api()`: JSON in and out, the bearer token when there is one,
 * and the API's error body turned into an `ApiError` (code and message as the server sent them).
 *
 * Auth: a 401 raises the token prompt (see components/token-prompt.js). The token lives in this tab's
 * sessionStorage only; saving one bumps `auth.generation`, which every data hook watches, so each page
 * loads again with it.
 */

const TOKEN_KEY = "zart.token";

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/**
 * A route this server does not have yet (an older server): the router's own 404, not a missing record.
 * @param {unknown} error
 */
export function isUnavailable(error) {
  return error instanceof ApiError && error.status === 404 && error.code === "not_found";
}

/** @typedef {{ prompt: boolean, rejected: boolean, generation: number, hasToken: boolean }} AuthState */

/** @type {Set<() => void>} */
const listeners = new Set();
let token = readToken();
/** @type {AuthState} */
let state = { prompt: false, rejected: false, generation: 0, hasToken: token !== null };

function readToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** @param {Partial<AuthState>} change */
function update(change) {
  state = { ...state, ...change };
  for (const listener of listeners) listener();
}

/**
 * Whether a token can travel in a header: printable ASCII without spaces (the server refuses any other
 * token at start-up). `fetch` throws on anything beyond Latin-1, which would never raise the prompt.
 * @param {string} value
 */
export function isSendableToken(value) {
  return /^[\x21-\x7e]+$/.test(value);
}

export const auth = {
  /** @returns {AuthState} */
  get state() {
    return state;
  },
  /** @param {() => void} listener */
  subscribe(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** @param {string} value */
  save(value) {
    token = value;
    sessionStorage.setItem(TOKEN_KEY, value);
    update({ prompt: false, rejected: false, hasToken: true, generation: state.generation + 1 });
  },
  forget() {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    update({ hasToken: false, generation: state.generation + 1 });
  },
};

/**
 * @param {Response} response
 * @returns {Promise<unknown>}
 */
async function readBody(response) {
  const text = await response.text();
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * @param {number} status
 * @param {unknown} body
 */
function errorFrom(status, body) {
  const error = typeof body === "object" && body !== null && "error" in body ? /** @type {{error: unknown}} */ (body).error : null;
  if (typeof error === "object" && error !== null) {
    const { code, message } = /** @type {{ code?: unknown, message?: unknown }} */ (error);
    if (typeof code === "string" && typeof message === "string") return new ApiError(status, code, message);
  }
  return new ApiError(status, "http_error", `The server answered HTTP ${status}`);
}

/**
 * Calls `/api/v1{path}`. A `body` (any JSON value, `null` included) makes it a POST unless `method` says otherwise.
 * @template T
 * @param {string} path
 * @param {{ method?: string, body?: unknown, signal?: AbortSignal }} [options]
 * @returns {Promise<T>}
 */
export async function api(path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json" };
  const hasBody = "body" in options;
  if (hasBody) headers["content-type"] = "application/json";
  if (token !== null && !isSendableToken(token)) {
    if (!state.prompt) update({ prompt: true, rejected: true });
    throw new ApiError(401, "unauthorized", "The saved token has characters no request can carry");
  }
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`/api/v1${path}`, {
    method: options.method ?? (hasBody ? "POST" : "GET"),
    headers,
    body: hasBody ? JSON.stringify(options.body ?? null) : undefined,
    signal: options.signal,
  });
  const body = await readBody(response);
  if (response.status === 401) {
    if (!state.prompt) update({ prompt: true, rejected: token !== null });
    throw errorFrom(401, body);
  }
  if (!response.ok) throw errorFrom(response.status, body);
  return /** @type {T} */ (body);
}

/** A path segment, encoded (execution ids, event names, task names). */
export const seg = encodeURIComponent;
