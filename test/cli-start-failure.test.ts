/**
 * A server or worker that cannot open its port (another process holds it) exits 1 with a message, and
 * hands back the executions its worker had already claimed before the listen failed, instead of leaving
 * them `running` until their lease runs out.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runToEnd } from "./support/child-process.js";
import { cliArgs } from "./support/cli-entry.js";
import { call, type ServerProcess, startServer } from "./support/server-process.js";

const TASKS = join(new URL(".", import.meta.url).pathname, "fixtures", "mp-slow-tasks.ts");

let api: ServerProcess;

before(async () => {
  api = await startServer({ args: ["--no-worker", "--tasks", TASKS] });
});

after(async () => {
  assert.equal(await api.stop(), 0);
});

async function statuses(): Promise<string[]> {
  const list = await call(`${api.url}/api/v1/executions?task=slow`);
  return (list.body as { executions: Array<{ status: string }> }).executions.map((e) => e.status);
}

describe("a port already in use", () => {
  it("zart-server and zart worker --http-port exit 1 and hand back what their worker claimed", async () => {
    const config = join(api.dir, "grace.json");
    writeFileSync(config, JSON.stringify({ worker: { shutdownGrace: "1s" } }));
    const port = new URL(api.url).port;
    const commands = [
      [...cliArgs("zart-server"), "--port", port],
      [...cliArgs("zart"), "worker", "--http-port", port],
    ];
    for (const command of commands) {
      for (let i = 0; i < 3; i++) {
        const created = await call(`${api.url}/api/v1/executions`, { json: { task: "slow", data: {} } });
        assert.equal(created.status, 201);
      }
      const run = await runToEnd(process.execPath, [...command, "--database", api.dbPath, "--tasks", TASKS, "--config", config], {
        timeoutMs: 90_000,
      });
      const what = command.slice(-3).join(" ");
      assert.equal(run.code, 1, `${what}: ${run.stderr}`);
      assert.match(run.stderr, /failed to start: .*EADDRINUSE/, what);
      assert.deepEqual(
        (await statuses()).filter((status) => status !== "pending"),
        [],
        `${what}: every execution is pending again`,
      );
    }
  });
});
