/**
 * Reads PostgreSQL's server log with plans written by auto_explain (JSON format, `log_analyze` on) and
 * prints, for the checkpoint batch statement (the one reading `jsonb_to_recordset($1::jsonb)`), its
 * executor time and each plan node's own time (its time minus its children's) per checkpoint, a
 * checkpoint being a row of the statement's CTE `c`. A CTE Scan's own time includes running the CTE it
 * reads the first time, which is also listed under the CTE's nodes: the lines overlap and do not add up
 * to the whole. Not part of the benchmark tables; decision 022's per-node figures come from
 *
 *   PGOPTIONS='-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0
 *     -c auto_explain.log_analyze=on -c auto_explain.sample_rate=0.03 -c auto_explain.log_format=json' \
 *     ZART_ROOT=/tmp/ct-new npx tsx src/probe-tree-ab.ts throughput w1 10000 50 postgres
 *   npx tsx src/plan-node-times.ts <the log lines the run added> [top]
 */
import { readFileSync } from "node:fs";

interface PlanNode {
  "Node Type": string;
  "Actual Total Time": number;
  "Actual Loops"?: number;
  "Actual Rows": number;
  "Subplan Name"?: string;
  "CTE Name"?: string;
  "Relation Name"?: string;
  "Function Name"?: string;
  Plans?: PlanNode[];
}

const [file, topArg = "12"] = process.argv.slice(2);
if (!file) throw new Error("usage: plan-node-times.ts <log file> [top]");
const entries = readFileSync(file, "utf8").split(/\n?\S+ \S+ UTC \[\d+\] \S+ LOG: {2}duration: ([\d.]+) ms {2}plan:\n/);

const own = new Map<string, number>();
let statements = 0;
let checkpoints = 0;
let totalMs = 0;

const spent = (node: PlanNode) => node["Actual Total Time"] * (node["Actual Loops"] ?? 1);
const label = (node: PlanNode) =>
  `${node["Subplan Name"] ?? ""} ${node["Node Type"]} ${node["Relation Name"] ?? node["Function Name"] ?? node["CTE Name"] ?? ""}`.trim();

function walk(node: PlanNode): void {
  const children = node.Plans ?? [];
  const key = label(node);
  own.set(key, (own.get(key) ?? 0) + spent(node) - children.reduce((sum, child) => sum + spent(child), 0));
  for (const child of children) walk(child);
}

function rowsOfC(node: PlanNode): number | null {
  if (node["Subplan Name"]?.startsWith("CTE c")) return node["Actual Rows"];
  for (const child of node.Plans ?? []) {
    const rows = rowsOfC(child);
    if (rows !== null) return rows;
  }
  return null;
}

for (let i = 1; i + 1 < entries.length; i += 2) {
  const body = (entries[i + 1] as string)
    .split("\n")
    .map((line) => (line.startsWith("\t") ? line.slice(1) : line))
    .join("\n");
  let plan: { "Query Text": string; Plan: PlanNode };
  try {
    plan = JSON.parse(body.slice(0, body.lastIndexOf("}") + 1));
  } catch {
    continue; // a log line that is not a plan
  }
  if (!plan["Query Text"].includes("jsonb_to_recordset($1::jsonb)")) continue;
  statements += 1;
  totalMs += Number(entries[i]);
  checkpoints += rowsOfC(plan.Plan) ?? 0;
  walk(plan.Plan);
}

const per = (ms: number) => ((1000 * ms) / Math.max(checkpoints, 1)).toFixed(1);
console.log(`statements ${statements}, checkpoints ${checkpoints}, ${per(totalMs)} µs per checkpoint in all`);
for (const [key, ms] of [...own].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) {
  console.log(`${per(ms).padStart(8)} µs  ${key}`);
}
