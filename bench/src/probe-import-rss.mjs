/**
 * The RSS a fresh `node` holds after importing a set of modules, each set in its own process, five times,
 * median printed (decision 028). A set is a comma-separated list of package names or paths (paths are taken
 * from the current directory); "-" is the empty set, `node` alone.
 *
 *   node bench/src/probe-import-rss.mjs - typebox,typebox/compile ./dist/core/typebox.js
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const RUNS = 5;
const sets = process.argv.slice(2);
if (sets.length === 0) throw new Error("usage: probe-import-rss.mjs <set> [<set>…]  (a set: a,b,c or -)");

function specifier(name) {
  return name.startsWith(".") || name.startsWith("/") ? pathToFileURL(resolve(name)).href : name;
}

for (const set of sets) {
  const names = set === "-" ? [] : set.split(",");
  const imports = names.map((name) => `await import(${JSON.stringify(specifier(name))});`).join("\n");
  const program = `${imports}
await new Promise((r) => setTimeout(r, 500));
const status = (await import("node:fs")).readFileSync("/proc/self/status", "utf8");
console.log(Number(/VmRSS:\\s+(\\d+)/.exec(status)[1]));`;
  const readings = [];
  for (let run = 0; run < RUNS; run++) {
    const kb = execFileSync(process.execPath, ["--input-type=module", "-e", program], { cwd: process.cwd(), encoding: "utf8" });
    readings.push(Number(kb) / 1024);
  }
  readings.sort((a, b) => a - b);
  const median = readings[Math.floor(RUNS / 2)];
  console.log(`${set.padEnd(40)} median ${median.toFixed(1)} MB  (${readings.map((r) => r.toFixed(1)).join(", ")})`);
}
