/**
 * What a number of things (long-polls, say) hold on the heap, from two V8 heap snapshots: the bytes and
 * counts of the second minus the first, per kind of object (constructor name, or the V8 type for strings,
 * arrays, closures and code), divided by the number of things. Node's own socket and HTTP objects show
 * under their class names; what the server adds shows beside them.
 *
 *   node --import tsx scripts/load/heap-diff.ts before.heapsnapshot after.heapsnapshot 2000 [rows]
 */
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Bytes and count per kind of object. */
function totals(file: string): Map<string, { bytes: number; count: number }> {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snapshot.meta.node_fields;
  const types = snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [number, number, number];
  const byKind = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt] as number] as string;
    const named = type === "object" || type === "closure" || type === "native" || type === "synthetic";
    const kind = named ? `${type} ${strings[nodes[i + nameAt] as number] || "(anonymous)"}` : type;
    const entry = byKind.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += nodes[i + sizeAt] as number;
    entry.count += 1;
    byKind.set(kind, entry);
  }
  return byKind;
}

const [before, after, per = "1", rows = "40"] = process.argv.slice(2);
if (!before || !after) {
  console.error("usage: heap-diff.ts before.heapsnapshot after.heapsnapshot [divide-by] [rows]");
  process.exit(2);
}
const n = Number(per);
const first = totals(before);
const diff = [...totals(after)].map(([kind, { bytes, count }]) => ({
  kind,
  bytes: (bytes - (first.get(kind)?.bytes ?? 0)) / n,
  count: (count - (first.get(kind)?.count ?? 0)) / n,
}));
diff.sort((a, b) => b.bytes - a.bytes);
console.log(`bytes per item in all: ${diff.reduce((sum, d) => sum + d.bytes, 0).toFixed(0)}`);
console.log("bytes  count  kind");
for (const d of diff.slice(0, Number(rows))) console.log(`${d.bytes.toFixed(0).padStart(5)}  ${d.count.toFixed(2).padStart(5)}  ${d.kind}`);
