/**
 * Back-pressure on PostgreSQL, against a real API-only `zart-server`: while the database cannot take new
 * rows (the test holds a SHARE lock on the executions table), new executions wait in the store's bounded
 * insert queue; beyond `limits.queuedInserts` a POST is refused at once with `503 overloaded` and
 * `Retry-After`, so what the server holds stays bounded (a count, not a timing), and `/metrics` shows it.
 * Once the database catches up, every accepted POST answers 201 and is stored. Without the lock, a burst
 * within the bound answers no 5xx.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import pg from "pg";
import { markPostgresRan, TestSchema, testDatabaseUrl } from "./support/postgres.js";
import { databaseUrl, inParallel, writeConfig } from "./support/processes.js";
import { eventually, type ServerProcess, startServer } from "./support/server-process.js";

const BOUND = 20;
/** pool_size 3: the insert batcher keeps max(2, 3/3) = 2 statements in flight, each carrying what was queued. */
const POOL = 3;
const IN_FLIGHT = 2;
const BURST = 200;

const schema = new TestSchema("overload");
const dir = mkdtempSync(join(tmpdir(), "zart-overload-"));
let server: ServerProcess;
let api: string;

before(async () => {
  const config = writeConfig(dir, "zart.json", { limits: { queuedInserts: BOUND } });
  server = await startServer({
    args: ["--no-worker", "--tasks", "test/support/test-tasks.ts", "--config", config, "--database", databaseUrl(schema.name, POOL)],
  });
  api = `${server.url}/api/v1`;
  markPostgresRan();
});

after(async () => {
  const code = await server.stop();
  await schema.drop();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 0);
});

interface Answer {
  status: number;
  retryAfter: string | null;
  code: string | undefined;
}

async function post(i: number): Promise<Answer> {
  const response = await fetch(`${api}/executions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ task: "echo", data: { i } }),
  });
  const body = (await response.json()) as { error?: { code?: string } };
  return { status: response.status, retryAfter: response.headers.get("retry-after"), code: body.error?.code };
}

async function storedRows(): Promise<number> {
  const stats = (await (await fetch(`${api}/stats`)).json()) as Record<string, number>;
  return Object.values(stats).reduce((sum, n) => sum + n, 0);
}

/** The server's `zart_store_pending_inserts` gauge. */
async function pendingInserts(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("zart_store_pending_inserts "));
  assert.ok(line, "the gauge is exported");
  return Number(line.split(" ")[1]);
}

/**
 * This server's statements waiting on a lock: its inserts, behind the test's lock (nothing else it sends
 * conflicts with it). `client` must not be in a transaction, which would keep reading one snapshot of the view.
 */
async function blockedStatements(client: pg.Client): Promise<number> {
  const { rows } = await client.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND wait_event_type = 'Lock'",
    [`zart:${schema.name}`],
  );
  return rows[0].n;
}

test("inserts blocked: POSTs beyond the bound get 503 overloaded with Retry-After at once; the accepted ones are stored later", async () => {
  const before = await storedRows();
  const lock = new pg.Client({ connectionString: testDatabaseUrl() });
  await lock.connect();
  await lock.query("BEGIN");
  await lock.query(`LOCK TABLE ${schema.name}.executions IN SHARE MODE`);
  const watch = new pg.Client({ connectionString: testDatabaseUrl() });
  await watch.connect();
  const answers: Answer[] = [];
  const requests: Promise<number>[] = [];
  try {
    // One POST at a time until each statement in flight holds one row and waits on the lock (the calls of
    // one event-loop turn would share a statement), then the rest at once.
    for (let i = 0; i < IN_FLIGHT; i++) {
      requests.push(post(i).then((answer) => answers.push(answer)));
      await eventually(async () => ((await blockedStatements(watch)) === i + 1 ? true : undefined), 30_000, `insert ${i + 1} waiting`);
    }
    for (let i = IN_FLIGHT; i < BURST; i++) requests.push(post(i).then((answer) => answers.push(answer)));
    // Everything beyond the queue and the statements in flight is answered while the lock is held.
    await eventually(async () => (answers.length >= BURST - BOUND - IN_FLIGHT ? true : undefined), 30_000, "the refusals");
    const early = [...answers];
    assert.ok(
      early.every((a) => a.status === 503 && a.code === "overloaded" && a.retryAfter === "1"),
      JSON.stringify(early.find((a) => a.status !== 503 || a.code !== "overloaded" || a.retryAfter !== "1")),
    );
    assert.equal(early.length, BURST - BOUND - IN_FLIGHT, "exactly the bound plus the statements in flight are held");
    assert.equal(await pendingInserts(), BOUND + IN_FLIGHT, "/metrics shows the held ones");
  } finally {
    await lock.query("COMMIT");
    await lock.end();
    await watch.end();
  }
  await Promise.all(requests);
  const created = answers.filter((a) => a.status === 201).length;
  const refused = answers.filter((a) => a.status === 503).length;
  assert.equal(created, BOUND + IN_FLIGHT, "every held POST was answered 201 once the database caught up");
  assert.equal(created + refused, BURST, JSON.stringify(answers.filter((a) => a.status !== 201 && a.status !== 503)));
  assert.equal((await storedRows()) - before, created, "exactly the accepted executions are stored");
  assert.equal(await pendingInserts(), 0);
});

test("a burst within the bound answers no 5xx: 1,000 POSTs, as many at once as the bound, all 201 and all stored", async () => {
  const before = await storedRows();
  const statuses = new Map<number, number>();
  await inParallel(
    Array.from({ length: 1000 }, (_, i) => i),
    BOUND,
    async (i) => {
      const { status } = await post(i);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    },
  );
  assert.deepEqual([...statuses], [[201, 1000]]);
  assert.equal((await storedRows()) - before, 1000);
});
