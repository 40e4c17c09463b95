/**
 * Reads a sampled allocation profile (a probe's PROBE_HEAPPROF) and prints the bytes allocated in all and
 * by the functions that allocated most, divided by a count (executions, say). Not part of the benchmark
 * tables; decision 022's allocation figures come from
 *
 *   PROBE_HEAPPROF=/tmp/w0.json npx tsx src/probe-tree-ab.ts throughput w0 30000 10
 *   npx tsx src/heap-summary.ts /tmp/w0.json 30000
 */
import { readFileSync } from "node:fs";

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

const [file, perArg = "1", topArg = "30"] = process.argv.slice(2);
if (!file) throw new Error("usage: heap-summary.ts <file.json> [count to divide by] [top]");
const { head } = JSON.parse(readFileSync(file, "utf8")) as { head: HeapNode };
const per = Number(perArg);

const bytes = new Map<string, number>();
let total = 0;
const stack = [head];
for (let node = stack.pop(); node; node = stack.pop()) {
  total += node.selfSize;
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber}`;
  bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
  stack.push(...node.children);
}
console.log(`${(total / per).toFixed(0)} bytes allocated per count`);
for (const [key, size] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) {
  console.log(`${(size / per).toFixed(0).padStart(8)}  ${key}`);
}
