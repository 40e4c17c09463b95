/**
 * Values the server commands must refuse at start-up as configuration errors (exit 2, a message naming
 * the value), before anything is opened: a database URL its store would refuse, and a retention longer
 * than a store can hold (which PostgreSQL would otherwise refuse at every prune round).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runToEnd } from "./support/child-process.js";
import { cliArgs } from "./support/cli-entry.js";

const dir = mkdtempSync(join(tmpdir(), "zart-cli-config-values-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Nothing listens here: a check that tried to connect would fail differently (and exit 1). */
const PG = "postgres://postgres@127.0.0.1:1/zart_nowhere";

describe("start-up refuses bad values with exit 2", () => {
  it("a database URL the store would refuse: zart-server, zart worker and zart migrate", async () => {
    const cases: Array<[string, RegExp]> = [
      ["mysql://x", /database: Unsupported database URL "mysql:\/\/…"/],
      [`sqlite:${join(dir, "a.db")}?sync=bogus`, /database: sync must be "normal" or "full", got "bogus"/],
      [`${PG}?pool_size=abc`, /database: pool_size must be a positive integer, got "abc"/],
      [`${PG}?schema=1bad`, /database: PostgreSQL schema name "1bad" must be 1-63 letters/],
    ];
    const commands = [
      ["zart-server", "--port", "0"],
      ["zart", "worker"],
      ["zart", "migrate"],
    ] as const;
    const runs = cases.flatMap(([database, message]) =>
      commands.map(async ([command, ...args]) => {
        const run = await runToEnd(process.execPath, [...cliArgs(command), ...args, "--database", database], { timeoutMs: 60_000 });
        return { what: `${command} ${args.join(" ")} --database ${database}`, run, message };
      }),
    );
    for (const { what, run, message } of await Promise.all(runs)) {
      assert.equal(run.code, 2, `${what}: ${run.stderr}`);
      assert.match(run.stderr, message, what);
      assert.doesNotMatch(run.stderr, /failed to start/, what);
    }
  });

  it("a retention longer than a store can hold, however many digits it has", async () => {
    const runs = await Promise.all(
      ["999999999999d", `${"9".repeat(400)}d`].map((retention) =>
        runToEnd(process.execPath, [...cliArgs("zart-server"), "--port", "0", "--database", join(dir, "r.db"), "--retention", retention], {
          timeoutMs: 60_000,
        }),
      ),
    );
    for (const run of runs) {
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /^zart-server: retention: Invalid duration: "9+d" is too long \(at most 100000000 days\)\n$/);
    }
  });
});
