/**
 * `zart steps` says what the timeline's flags mean, as the dashboard does: a step waiting out a backoff
 * shows when its next attempt starts, and a wait its execution ended before it was over is marked
 * closed rather than passing for one that completed. Real server, real commands.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { childEnv, runToEnd } from "./support/child-process.js";
import { cliArgs } from "./support/cli-entry.js";
import { call, eventually, type ServerProcess, startServer } from "./support/server-process.js";

const FIXTURE = new URL("./fixtures/backoff-tasks.ts", import.meta.url).pathname;

async function zart(args: readonly string[], env: Record<string, string>) {
  const { code, stdout, stderr } = await runToEnd(process.execPath, [...cliArgs("zart"), ...args], { env: childEnv(env) });
  return { code, out: stdout, err: stderr };
}

describe("zart steps shows backoffs and closed waits", () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const api = (path: string, init: Parameters<typeof call>[1] = {}) => call(`${server.url}/api/v1${path}`, init);

  async function startAndAwait(task: string, data: unknown, stepStatus: string): Promise<string> {
    const started = await api("/executions", { json: { task, data } });
    assert.equal(started.status, 201, started.text);
    const id = (started.body as { execution_id: string }).execution_id;
    await eventually(
      async () =>
        ((await api(`/executions/${id}/steps`)).body as { steps: { status: string }[] }).steps[0]?.status === stepStatus || undefined,
      15_000,
      `${id}'s first step ${stepStatus}`,
    );
    return id;
  }

  before(async () => {
    server = await startServer({ args: ["--tasks", FIXTURE] });
    env = { ZART_SERVER: server.url };
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it("a step waiting out its backoff: when the next attempt starts", async () => {
    const id = await startAndAwait("backoff", {}, "waiting");
    const steps = await zart(["steps", id], env);
    assert.equal(steps.code, 0, steps.err);
    assert.match(steps.out, /\n1 {2}call +step +waiting .* next attempt in \d+ min\n/);
  });

  it("a sleep its execution's cancel cut short: closed, not a sleep that woke", async () => {
    const id = await startAndAwait("sleep", { seconds: 3600 }, "waiting");
    assert.equal((await api(`/executions/${id}/cancel`, { method: "POST" })).status, 200);
    const steps = await zart(["steps", id], env);
    assert.equal(steps.code, 0, steps.err);
    assert.match(steps.out, /\n1 {2}nap +sleep +completed .* closed: the execution ended while it waited\n/);
  });
});
