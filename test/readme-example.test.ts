/**
 * The README's 30-second example exactly as a reader runs it: `zart-server --tasks ./examples/signup.ts`,
 * then the event straight after scheduling (while the execution still sleeps), then the wait. The README's
 * task block must be the file's, so this test covers what the reader copies.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { ZartClient } from "../src/client/index.js";
import { type ServerProcess, startServer } from "./support/server-process.js";

const ROOT = new URL("..", import.meta.url).pathname;

let server: ServerProcess;
let zart: ZartClient;

before(async () => {
  server = await startServer({ args: ["--tasks", "./examples/signup.ts"] });
  zart = new ZartClient({ baseUrl: server.url });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

describe("README 30-second example", () => {
  it("shows examples/signup.ts verbatim (after its header comment)", () => {
    const file = readFileSync(`${ROOT}examples/signup.ts`, "utf8");
    const body = file.slice(file.indexOf("import "));
    assert.ok(readFileSync(`${ROOT}README.md`, "utf8").includes(body.trimEnd()), "README's signup block matches the file");
  });

  it("an approval sent while the execution still sleeps is kept, and the execution completes with it", async () => {
    const { execution_id: id } = await zart.schedule("signup", { email: "a@example.com" });
    const sent = await zart.sendEvent(id, "approval", { approved: true });
    assert.equal(sent.status, "buffered", "sent before the wait: kept, not refused with 409");
    const done = await zart.wait(id, { timeoutSeconds: 30 });
    assert.equal(done.done, true);
    assert.equal(done.status, "completed");
    assert.equal((done.output as { approved: boolean }).approved, true);
    assert.match((done.output as { account: string }).account, /^acct_/);
  });
});
