/**
 * Retention end to end: `zart prune --older-than D` (real `node bin/zart.js` processes) against a real
 * `zart-server` (SQLite) with a token, human output and `--json`, what it deletes and keeps, freed
 * idempotency keys and exact counts; `--retention` on a server restarted over the same database, whose
 * first background round prunes at start. The client SDK's requests for the newer POST options and its
 * escaping of ids and names run against the same server.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ZartClient, ZartHttpError } from "../src/client/index.js";
import { call, eventually, type ServerProcess, startServer } from "./support/server-process.js";
import { runZart } from "./support/zart-cli.js";

const TOKEN = "t0k";
const TASKS = ["--tasks", "test/fixtures/prune-tasks.ts"];

function apiOf(server: ServerProcess) {
  return (path: string, init: Parameters<typeof call>[1] = {}) =>
    call(`${server.url}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...init.headers } });
}

async function completedEcho(api: ReturnType<typeof apiOf>, n: number, key?: string): Promise<string> {
  const posted = await api("/executions", { json: { task: "echo", data: { n }, ...(key ? { idempotency_key: key } : {}) } });
  assert.equal(posted.status, 201, posted.text);
  const id = (posted.body as { execution_id: string }).execution_id;
  const done = await api(`/executions/${id}/wait?timeout=30`);
  assert.equal((done.body as { status: string }).status, "completed", done.text);
  return id;
}

describe("zart prune against a real server", () => {
  let server: ServerProcess;
  let api: ReturnType<typeof apiOf>;
  const zart = (args: string[], env: Record<string, string> = { ZART_TOKEN: TOKEN }) => runZart([...args, "--server", server.url], { env });

  // Kept across a restart (the last test): the servers are given it, so stopping one leaves the database.
  const dir = mkdtempSync(join(tmpdir(), "zart-prune-cli-"));

  before(async () => {
    server = await startServer({ args: TASKS, env: { ZART_API_TOKEN: TOKEN }, dir });
    api = apiOf(server);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  });

  it("deletes what ended longer ago than --older-than, keeps the rest; human and --json; counts exact; keys free", async () => {
    const done = [await completedEcho(api, 1, "order-1"), await completedEcho(api, 2), await completedEcho(api, 3)];
    const waiting = await api("/executions", { json: { task: "onboarding", data: { user_id: "u1", email: "u1@example.com" } } });
    const waitingId = (waiting.body as { execution_id: string }).execution_id;
    await eventually(async () => ((await api(`/executions/${waitingId}`)).body as { status: string }).status === "waiting" || undefined);

    assert.deepEqual(await zart(["prune", "--older-than", "1h"]), { code: 0, out: "pruned 0 executions\n", err: "" });
    // They ended before this command started, so more than a millisecond before the server reads its clock.
    assert.deepEqual(await zart(["prune", "--older-than", "1ms"]), { code: 0, out: "pruned 3 executions\n", err: "" });
    for (const id of done) {
      const gone = await api(`/executions/${id}`);
      assert.equal(gone.status, 404);
      assert.equal((gone.body as { error: { code: string } }).error.code, "execution_not_found");
    }
    assert.equal(((await api(`/executions/${waitingId}`)).body as { status: string }).status, "waiting");
    const stats = (await api("/stats")).body as Record<string, number>;
    assert.deepEqual(stats, { pending: 0, running: 0, waiting: 1, completed: 0, failed: 0, cancelled: 0 });
    assert.equal(((await api("/executions?status=completed")).body as { total: number }).total, 0);
    assert.deepEqual(await zart(["prune", "--older-than", "1ms", "--json"]), { code: 0, out: '{"pruned":0}\n', err: "" });

    const again = await api("/executions", { json: { task: "echo", data: { n: 4 }, idempotency_key: "order-1" } });
    assert.equal(again.status, 201, "the pruned execution's idempotency key is free");
  });

  it("the token goes with every command as a bearer header; without it the API's 401 and exit 1", async () => {
    const [withFlag, withEnv, without] = await Promise.all([
      runZart(["prune", "--older-than", "1d", "--server", server.url, "--token", TOKEN]),
      zart(["schedules", "list"]),
      zart(["prune", "--older-than", "1d"], {}),
    ]);
    assert.deepEqual(withFlag, { code: 0, out: "pruned 0 executions\n", err: "" });
    assert.equal(withEnv.code, 0, withEnv.err);
    assert.equal(without.code, 1);
    assert.match(without.err, /unauthorized/);
  });

  it("the client SDK: prune, and the server's 400 invalid_request for a duration it cannot read", async () => {
    const client = new ZartClient({ baseUrl: `${server.url}/`, token: TOKEN });
    await client.prune("1ms");
    const id = await completedEcho(api, 5);
    assert.deepEqual(await client.prune("1ms"), { pruned: 1 });
    assert.equal((await api(`/executions/${id}`)).status, 404);
    await assert.rejects(client.prune("soon"), (error: unknown) => {
      assert.ok(error instanceof ZartHttpError);
      assert.equal(error.status, 400);
      assert.equal(error.code, "invalid_request");
      assert.match(error.message, /older_than/);
      return true;
    });
  });

  it("the client SDK sends start_at (a Date as RFC 3339), priority, concurrency_key and both spellings of the idempotency key", async () => {
    const client = new ZartClient({ baseUrl: `${server.url}/`, token: TOKEN });
    const startAt = new Date(Date.now() + 3_600_000);
    const scheduled = await client.schedule(
      "limited",
      { a: 1 },
      { start_at: startAt, priority: 7, concurrency_key: "k", idempotency_key: "i-1" },
    );
    const got = await client.get(scheduled.execution_id);
    assert.deepEqual([got.status, got.priority, got.concurrency_key, got.start_at], ["pending", 7, "k", startAt.toISOString()]);
    const repeat = await client.schedule("limited", { a: 2 }, { idempotency_key: "i-1" });
    assert.equal(repeat.execution_id, scheduled.execution_id);
    const older = await client.schedule("echo", { n: 6 }, { start_at: "2020-01-01T00:00:00Z", idempotencyKey: "older-spelling" });
    const olderAgain = await client.schedule("echo", { n: 7 }, { idempotencyKey: "older-spelling" });
    assert.equal(olderAgain.execution_id, older.execution_id);
  });

  it("the client SDK escapes ids and event names into the path", async () => {
    const client = new ZartClient({ baseUrl: server.url, token: TOKEN });
    await assert.rejects(client.schedules.get("a/b c"), (error: unknown) => {
      assert.ok(error instanceof ZartHttpError);
      assert.equal(error.code, "schedule_not_found");
      assert.match(error.message, /a\/b c/);
      return true;
    });
    const relay = await client.schedule("relay", { event: "ev/x" });
    await eventually(async () => (await client.get(relay.execution_id)).status === "waiting" || undefined);
    assert.equal((await client.sendEvent(relay.execution_id, "ev/x", null)).status, "delivered");
    const output = await api(`/executions/${relay.execution_id}/wait?timeout=30`);
    assert.deepEqual((output.body as { output: unknown }).output, { payload: null });
  });

  it("a server restarted on the same database with --retention prunes at start, logs it, and says so in its banner", async () => {
    const counts = (await api("/stats")).body as Record<string, number>;
    const finished = counts.completed! + counts.failed! + counts.cancelled!;
    assert.ok(finished > 0);
    assert.equal(await server.stop(), 0);
    server = await startServer({ args: [...TASKS, "--retention", "1ms"], env: { ZART_API_TOKEN: TOKEN }, dir, logLevel: "info" });
    api = apiOf(server);
    assert.ok(
      server.output.some((line) => /^ {2}retain: +1ms after an execution ends/.test(line)),
      server.output.join("\n"),
    );
    const line = await server.waitForLine((l) => l.includes('"msg":"pruned finished executions"'), "the prune round's log line");
    assert.equal(JSON.parse(line).pruned, finished);
    assert.deepEqual((await api("/stats")).body, { ...counts, completed: 0, failed: 0, cancelled: 0 });
  });
});
