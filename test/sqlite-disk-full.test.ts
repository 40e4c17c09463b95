/**
 * A full disk under the SQLite store, for real: the server's database lives on a 1 MB tmpfs (mounted
 * here, as root or through `sudo -n`; a refused mount fails the test rather than skipping it). New
 * executions are posted until the disk is full. Checked: a write the disk refuses answers
 * `503 store_unavailable` saying the disk is full (never 500, never a crash); once the tmpfs grows, writes
 * succeed again, every acknowledged execution completes with the right output, the refused ones stored
 * nothing, the server exits 0 and the file passes SQLite's integrity check.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { call, type ServerProcess, startServer } from "./support/server-process.js";
import { assertIntactWith } from "./support/sqlite-file.js";

const MAX_POSTS = 5000;
/** mount and umount need root: run as root, or through `sudo -n` (a refusal fails the test). */
function asRoot(command: string, args: string[]): void {
  if (process.getuid?.() === 0) execFileSync(command, args);
  else execFileSync("sudo", ["-n", command, ...args]);
}
/** Each execution's data carries this much padding, so the megabyte fills within a few hundred posts. */
const PAD = "x".repeat(2000);

test("SQLite on a full disk: 503 store_unavailable, nothing acknowledged lost, recovery when space returns", {
  timeout: 180_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-disk-full-"));
  asRoot("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]);
  let server: ServerProcess | null = null;
  try {
    server = await startServer({ dir, args: ["--tasks", "test/fixtures/mp-tasks.ts"] });
    const executions = `${server.url}/api/v1/executions`;
    const acknowledged: Array<{ id: string; i: number }> = [];
    const refusals: Array<{ status: number; body: unknown }> = [];
    for (let i = 0; i < MAX_POSTS && refusals.length < 20; i++) {
      const reply = await call(executions, { json: { task: "chain", data: { i, pad: PAD } } });
      if (reply.status === 201) acknowledged.push({ id: (reply.body as { execution_id: string }).execution_id, i });
      else refusals.push({ status: reply.status, body: reply.body });
    }
    assert.ok(acknowledged.length > 0, "some executions were stored before the disk filled");
    assert.ok(refusals.length > 0, `the disk filled within ${MAX_POSTS} posts`);
    for (const refusal of refusals) {
      assert.equal(refusal.status, 503, JSON.stringify(refusal));
      const error = (refusal.body as { error: { code: string; message: string } }).error;
      assert.equal(error.code, "store_unavailable");
      assert.match(error.message, /full/i, "the message says the disk is full");
    }
    assert.equal(server.child.exitCode, null, "the server is still running");

    // Space returns: the next write succeeds, and everything acknowledged before completes.
    asRoot("mount", ["-o", "remount,size=64m", dir]);
    const after = await call(executions, { json: { task: "chain", data: { i: MAX_POSTS } } });
    assert.equal(after.status, 201, JSON.stringify(after.body));
    acknowledged.push({ id: (after.body as { execution_id: string }).execution_id, i: MAX_POSTS });
    for (const { id, i } of acknowledged) {
      const done = await call(`${executions}/${id}/wait?timeout=60`);
      assert.equal(done.status, 200, `${id}: ${JSON.stringify(done.body)}`);
      assert.equal((done.body as { status: string }).status, "completed", id);
      assert.equal((done.body as { output: number }).output, (i + 1) * 2 - 1, `${id} output`);
    }

    assert.equal(await server.stop(), 0);
    server = null;
    assertIntactWith(join(dir, "zart.db"), acknowledged.length);
  } finally {
    if (server) server.child.kill("SIGKILL");
    await server?.exited;
    asRoot("umount", ["-l", dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});
