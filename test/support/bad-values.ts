/**
 * Values a database cannot hold (a NUL in text), sent over HTTP where each may appear: every one gets a
 * 4xx in the contract's error shape, on either store, and nothing is written.
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

/** `api`: the server's `/api/v1` URL; `task`: a task it accepts; `waitingId`: an execution waiting for any event. */
export async function assertNulRefused(api: string, task: string, waitingId: string): Promise<void> {
  const nul = "\\u0000";
  assertRefused(
    await send(`${api}/executions`, { method: "POST", body: `{"task":"${task}","data":{},"idempotency_key":"key${nul}x"}` }),
    "NUL in idempotency_key",
  );
  assertRefused(await send(`${api}/executions`, { method: "POST", body: `{"task":"ta${nul}sk","data":{}}` }), "NUL in task");
  assertRefused(await send(`${api}/events/${waitingId}/ev%00ent`, { method: "POST", body: "{}" }), "NUL in event name");
  assertRefused(await send(`${api}/executions?task=ta%00sk`), "NUL in ?task=");
  const after = await send(`${api}/executions?task=${task}&limit=500`);
  assert.equal(after.status, 200);
}
