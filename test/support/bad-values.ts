/**
 * Values no store keeps as given (a NUL, an unpaired surrogate), sent over HTTP where each may appear:
 * every one gets a 4xx in the contract's error shape, on either store, and nothing is written.
 */
import assert from "node:assert/strict";

interface Reply {
  status: number;
  body: { error?: { code?: string; message?: string } };
}

async function send(url: string, init: { method?: string; body?: string } = {}): Promise<Reply> {
  const response = await fetch(url, {
    method: init.method ?? "GET",
    headers: init.body === undefined ? {} : { "content-type": "application/json" },
    body: init.body,
  });
  return { status: response.status, body: (await response.json()) as Reply["body"] };
}

function assertRefused(reply: Reply, what: string): void {
  assert.ok(reply.status >= 400 && reply.status < 500, `${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
  assert.equal(typeof reply.body.error?.code, "string", `${what}: the contract's error shape`);
  assert.equal(typeof reply.body.error?.message, "string", `${what}: the contract's error shape`);
}

/**
 * What no store keeps as given, in each field where a client can send it: a NUL (PostgreSQL text cannot hold
 * it) and an unpaired surrogate (no store keeps one; src/core/stored-text.ts), which on PostgreSQL made two
 * different idempotency keys one. `api`: the server's `/api/v1` URL; `task`: a task it accepts;
 * `waitingId`: an execution waiting for any event. Each is a 4xx in the contract's shape, and nothing is
 * written.
 */
export async function assertUnstorableRefused(api: string, task: string, waitingId: string): Promise<void> {
  const before = await counts(api, task);
  for (const [what, bad] of [
    ["NUL", "\\u0000"],
    ["an unpaired surrogate", "\\ud800"],
  ]) {
    const post = (path: string, body: string) => send(`${api}${path}`, { method: "POST", body });
    assertRefused(await post("/executions", `{"task":"${task}","data":{},"idempotency_key":"key${bad}x"}`), `${what} in idempotency_key`);
    assertRefused(await post("/executions", `{"task":"${task}","data":{},"concurrency_key":"key${bad}x"}`), `${what} in concurrency_key`);
    assertRefused(await post("/executions", `{"task":"ta${bad}sk","data":{}}`), `${what} in task`);
    assertRefused(await post(`/executions/${waitingId}/rerun`, `{"from_step":"st${bad}ep"}`), `${what} in from_step`);
    assertRefused(
      await post("/schedules", `{"schedule_id":"s1","cron":"0 0 * * *","task":"ta${bad}sk","data":{}}`),
      `${what} in a schedule's task`,
    );
  }
  // A URL cannot carry an unpaired surrogate (its UTF-8 decodes to U+FFFD), only a NUL.
  assertRefused(await send(`${api}/events/${waitingId}/ev%00ent`, { method: "POST", body: "{}" }), "NUL in event name");
  assertRefused(await send(`${api}/executions?task=ta%00sk`), "NUL in ?task=");
  assert.deepEqual(await counts(api, task), before, "nothing was written");
}

async function counts(api: string, task: string): Promise<{ executions: unknown; schedules: unknown }> {
  const executions = await send(`${api}/executions?task=${task}&limit=1`);
  const schedules = await send(`${api}/schedules`);
  assert.equal(executions.status, 200);
  assert.equal(schedules.status, 200);
  const body = (reply: Reply) => reply.body as unknown as { total?: number; schedules?: unknown[] };
  return { executions: body(executions).total, schedules: body(schedules).schedules?.length };
}
