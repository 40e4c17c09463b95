/**
 * `zart wait` rides out a restart of the server it waits on (a deploy): the wait is only a read, so a lost
 * server is asked again (for up to a minute) and the command ends as the execution does, not with exit 1
 * for the lost connection. Real server processes on one SQLite file and port, the CLI as a user runs it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { call, eventually, startServer } from "./support/server-process.js";
import { runZart } from "./support/zart-cli.js";

const dir = mkdtempSync(join(tmpdir(), "zart-cli-wait-restart-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("zart wait keeps waiting across a server restart and exits 0 once the execution completes", { timeout: 180_000 }, async () => {
  const first = await startServer({ dir });
  const api = (url: string, path: string, init: Parameters<typeof call>[1] = {}) => call(`${url}/api/v1${path}`, init);
  const { body } = await api(first.url, "/executions", {
    json: { task: "onboarding", data: { user_id: "u-restart", email: "u@example.com" } },
  });
  const id = (body as { execution_id: string }).execution_id;
  await eventually(async () => ((await api(first.url, `/executions/${id}`)).body as { status: string }).status === "waiting" || undefined);

  const waiting = runZart(["wait", id], { env: { ZART_SERVER: first.url } });
  // Whether the wait's request reached the first server before it stopped or not, it meets the gap.
  assert.equal(await first.stop(), 0);
  const port = new URL(first.url).port;
  const second = await startServer({ dir, args: ["--port", port] });
  try {
    assert.equal(second.url, first.url, "the second server listens where the first did");
    const sent = await api(second.url, `/events/${id}/manager-approval`, { json: { approved: true, reviewer: "jane@example.com" } });
    assert.equal(sent.status, 200);
    const done = await waiting;
    assert.equal(done.code, 0, `stdout: ${done.out}\nstderr: ${done.err}`);
    assert.match(done.out, new RegExp(`^${id} completed`));
    assert.match(done.err, new RegExp(`^zart: lost the server at ${second.url} \\(ECONNREFUSED\\); asking again for up to 60 s\\n$`));
  } finally {
    await second.stop();
  }
});
