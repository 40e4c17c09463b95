/**
 * Probe behind docs/decisions/010-execution-ids.md (not part of the benchmark tables): the cost of making
 * one execution id, with the engine's generator (src/engine/execution-id.ts: random bytes drawn 4 KiB at a
 * time from the CSPRNG) against the same id drawing its 10 random bytes with one `randomBytes(10)` each.
 * Median µs per id over rounds of 200,000, alternating.
 *
 *   npx tsx src/probe-execution-ids.ts [rounds, default 7]
 */
import { randomBytes } from "node:crypto";
import { newExecutionId } from "../../dist/engine/execution-id.js";

const rounds = Number(process.argv[2] ?? 7);
const IDS = 200_000;

/** The same form (9 time digits, 16 random), its random part from one `randomBytes` call per id. */
function unpooledId(now: number): string {
  const bits = BigInt(`0x${randomBytes(10).toString("hex")}`);
  return `exec-${Math.floor(now).toString(36).padStart(9, "0")}${bits.toString(36).padStart(16, "0")}`;
}

let sink = 0;
function usPerId(make: (now: number) => string): number {
  const started = performance.now();
  // A new millisecond for every id, so the generator's same-millisecond path does not flatter it.
  for (let k = 0; k < IDS; k++) sink += make(1_800_000_000_000 + k).length;
  return ((performance.now() - started) * 1000) / IDS;
}

const times: Record<string, number[]> = { pooled: [], "randomBytes per id": [] };
for (let round = 0; round <= rounds; round++) {
  const pooled = usPerId(newExecutionId);
  const unpooled = usPerId(unpooledId);
  if (round === 0) continue; // warms the JIT
  times.pooled?.push(pooled);
  times["randomBytes per id"]?.push(unpooled);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
for (const [name, xs] of Object.entries(times)) {
  console.log(JSON.stringify({ case: name, rounds, idsPerRound: IDS, medianUsPerId: +median(xs).toFixed(3) }));
}
console.log(JSON.stringify({ node: process.version, checksum: sink > 0 }));
