/**
 * Store capabilities are optional as documented: on a store without `fusedClaims` the engine never asks
 * for a claim fused into another write (no `claimFor`, no `applyAndClaim`), and every path still works -
 * starts, steps, event deliveries, parking - with separate claims.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { noMetrics } from "../src/engine/metrics.js";
import { openStore } from "../src/store/open-store.js";
import type { CreateResult, DeliverOutcome, DeliverRequest, NewExecution, Store } from "../src/store/store.js";
import { type Deferred, deferred } from "./support/deferred.js";

const approval = defineTask({
  name: "approval",
  async run(ctx, data: { n: number }) {
    const a = await ctx.step("a", () => data.n + 1);
    const ok = await ctx.waitForEvent<boolean>("ok");
    return ctx.step("b", () => (ok ? a * 2 : 0));
  },
});

test("without fusedClaims: no claimFor, no applyAndClaim, and executions still start, park, wake and finish", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-capabilities-"));
  const real = await openStore(join(dir, "zart.db"));
  const asked: string[] = [];
  const store: Store = Object.assign(Object.create(real) as Store, {
    capabilities: { ...real.capabilities, fusedClaims: false },
    createExecution(input: NewExecution): Promise<CreateResult> {
      if (input.claimFor) asked.push("createExecution with claimFor");
      return real.createExecution(input);
    },
    deliverEvent(request: DeliverRequest): Promise<DeliverOutcome> {
      if (request.claimFor) asked.push("deliverEvent with claimFor");
      return real.deliverEvent(request);
    },
    applyAndClaim(): never {
      asked.push("applyAndClaim");
      throw new Error("not offered");
    },
  });
  const parked = new Map<string, Deferred<void>>();
  const parkedOnce = (id: string) => parked.get(id) ?? parked.set(id, deferred()).get(id)!;
  const metrics = {
    ...noMetrics,
    finished: (_task: string, outcome: string, id: string) => outcome === "parked" && parkedOnce(id).resolve(),
  };
  const engine = await Engine.start({ store, tasks: [approval], metrics });
  try {
    const ids = [];
    for (let n = 0; n < 20; n++) ids.push((await engine.schedule({ task: "approval", data: { n }, eager: true })).execution.id);
    for (const id of ids) {
      await parkedOnce(id).promise;
      assert.equal(await engine.deliverEvent(id, "ok", "true"), "delivered");
    }
    for (const [n, id] of ids.entries()) {
      const done = await engine.waitForTerminal(id, 30_000);
      assert.equal(done.status, "completed");
      assert.equal(JSON.parse(done.outputJson ?? "null"), (n + 1) * 2);
    }
    assert.deepEqual(asked, []);
  } finally {
    await engine.stop();
    await real.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
