/** Shared helpers for the black-box HTTP tests: the contract's error check and execution shortcuts. */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { call, eventually } from "./server-process.js";

export const JSON_HEADERS = { "content-type": "application/json" };
export const ID = /^exec-[a-z0-9]{8,32}$/;
export const RFC3339_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export type Json = Record<string, unknown>;
export const body = (r: { body: unknown }) => r.body as Json;

/** The response is the contract's error: this status, this code, a message, nothing else, JSON. */
export function assertError(r: { status: number; body: unknown; headers: Headers }, status: number, code: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
  const error = body(r).error as Json;
  assert.equal(error.code, code);
  assert.equal(typeof error.message, "string");
  assert.deepEqual(Object.keys(body(r)), ["error"]);
}

/** The server's count of open long-polls, from its /metrics. */
export async function openLongPolls(serverUrl: string): Promise<number> {
  const metrics = await call(`${serverUrl}/metrics`);
  const match = /^zart_http_open_long_polls (\d+)/m.exec(metrics.text);
  assert.ok(match, "metrics report open long-polls");
  return Number(match[1]);
}

/**
 * Resolves once the server holds at least `count` long-polls open. The server is another process and
 * announces nothing when a request reaches its handler, so this reads its gauge every 25 ms (bounded).
 */
export function longPollsOpen(serverUrl: string, count: number): Promise<true> {
  return eventually(async () => ((await openLongPolls(serverUrl)) >= count ? true : undefined), 10_000, `${count} open long-poll(s)`);
}

/** Shortcuts bound to an API base URL that is known only once the server has started. */
export function apiHelpers(base: () => string) {
  const schedule = (task: string, data: unknown, key?: string) =>
    call(`${base()}/executions`, { json: key === undefined ? { task, data } : { task, data, idempotency_key: key } });
  const scheduled = async (task: string, data: unknown): Promise<string> => {
    const r = await schedule(task, data);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return body(r).execution_id as string;
  };
  const statusOf = async (id: string, api = base()): Promise<Json> => body(await call(`${api}/executions/${id}`));
  const until = (id: string, status: string, api = base()): Promise<Json> =>
    eventually(
      async () => {
        const execution = await statusOf(id, api);
        return execution.status === status ? execution : undefined;
      },
      15_000,
      `${id} to be ${status}`,
    );
  const onboardingAtWait = async (userId: string): Promise<string> => {
    const id = await scheduled("onboarding", { user_id: userId, email: `${userId}@example.com` });
    await until(id, "waiting");
    return id;
  };
  return { schedule, scheduled, statusOf, until, onboardingAtWait };
}

/** A local port nothing listens on (it was free a moment ago): for a server that is not there. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
