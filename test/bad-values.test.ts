/** The SQLite side of test/pg-bad-values.test.ts: the same bad values get the same errors on both stores. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import { assertUnstorableRefused } from "./support/bad-values.js";
import { assertBadValuesFail } from "./support/bad-values-engine.js";
import { serveInProcess } from "./support/in-process-server.js";

const dir = mkdtempSync(join(tmpdir(), "zart-bad-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("sqlite: values no store can hold", () => {
  test("a NUL or an unpaired surrogate in a step name and a too-long sleep fail their execution with a clear error", async () => {
    const store = await openStore(join(dir, "engine.db"));
    try {
      await assertBadValuesFail(store);
    } finally {
      await store.close();
    }
  });

  test("over HTTP, a NUL or an unpaired surrogate in a key, a name or a task is a 4xx in the contract's shape", async () => {
    const store = await openStore(join(dir, "http.db"));
    const waiter = defineTask({ name: "waiter", run: (ctx) => ctx.waitForEvent("go") });
    const engine = await Engine.start({ store, tasks: [waiter], logger: silentLogger });
    const { api, server } = await serveInProcess(engine);
    try {
      const { execution } = await engine.schedule({ task: "waiter", data: {}, eager: false });
      await assertUnstorableRefused(api, "waiter", execution.id);
    } finally {
      await server.close();
      await engine.stop();
      await store.close();
    }
  });
});
