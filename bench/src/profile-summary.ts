/**
 * Reads a V8 CPU profile (from a probe's PROBE_CPUPROF) and prints each function's inclusive time per
 * sample: the busy time spent in it or in what it called, counted once per profiler tick even when it
 * recurses. Not part of the benchmark tables; the numbers in the W1 latency analysis come from
 *
 *   PROBE_WARMUP=1000 PROBE_CPUPROF=/tmp/w1.cpuprofile npx tsx src/probe-latency.ts w1 1000
 *   npx tsx src/profile-summary.ts /tmp/w1.cpuprofile 1000 [top] [regexp over "function file:line"]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, perArg = "1", topArg = "40", pattern] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary.ts <file.cpuprofile> [samples to divide by] [top] [regexp]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const per = Number(perArg);

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const label = (node: ProfileNode) =>
  `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.split("/").slice(-2).join("/")}:${node.callFrame.lineNumber}`;

const inclusive = new Map<string, number>();
let busy = 0;
profile.samples.forEach((leaf, i) => {
  const micros = profile.timeDeltas[i] ?? 0;
  if (byId.get(leaf)?.callFrame.functionName === "(idle)") return;
  busy += micros;
  const seen = new Set<string>();
  for (let id: number | undefined = leaf; id !== undefined; id = parentOf.get(id)) {
    const node = byId.get(id);
    if (!node) break;
    const key = label(node);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + micros);
  }
});

console.log(`busy ${(busy / 1000).toFixed(0)} ms in all, ${(busy / per).toFixed(0)} µs per sample`);
const filter = pattern ? new RegExp(pattern) : null;
[...inclusive]
  .filter(([key]) => filter === null || filter.test(key))
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(topArg))
  .forEach(([key, micros]) => {
    console.log(`${(micros / per).toFixed(0).padStart(7)} µs  ${key}`);
  });
