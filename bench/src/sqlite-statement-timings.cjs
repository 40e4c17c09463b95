/**
 * A `--require` hook for the probes (not part of the benchmark tables): times every better-sqlite3 statement
 * the process runs and prints, at exit, each statement's count and mean µs, the costliest first. It patches
 * the better-sqlite3 that the tree under ZART_ROOT loads (default: this repository), so:
 *
 *   NODE_OPTIONS="--require ./src/sqlite-statement-timings.cjs" ZART_ROOT=/tmp/tree-a \
 *     npx tsx src/probe-tree-ab.ts latency w1 3000
 */
const { join } = require("node:path");

const root = process.env.ZART_ROOT ?? join(__dirname, "../..");
const Database = require(require.resolve("better-sqlite3", { paths: [root] }));
const timings = new Map();
const prepare = Database.prototype.prepare;
Database.prototype.prepare = function (sql) {
  const statement = prepare.call(this, sql);
  for (const method of ["run", "get", "all"]) {
    const original = statement[method];
    statement[method] = function (...args) {
      const started = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const key = `${method} ${sql.replace(/\s+/g, " ").trim().slice(0, 140)}`;
        const entry = timings.get(key) ?? { calls: 0, ns: 0n };
        entry.calls += 1;
        entry.ns += process.hrtime.bigint() - started;
        timings.set(key, entry);
      }
    };
  }
  return statement;
};
process.on("exit", () => {
  const rows = [...timings.entries()].sort((a, b) => Number(b[1].ns - a[1].ns)).slice(0, 20);
  for (const [key, { calls, ns }] of rows)
    console.error(`${String(calls).padStart(7)} ${(Number(ns) / 1000 / calls).toFixed(1).padStart(7)} µs  ${key}`);
});
