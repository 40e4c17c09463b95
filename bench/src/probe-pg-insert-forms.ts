/**
 * Probe behind docs/decisions/042-postgres-batch-insert-arrays.md (not part of the benchmark tables): one
 * statement inserting B plain queued executions into the executions table (the engine's schema, fresh
 * database), sent in four forms, alternated round by round; prints the median milliseconds per statement
 * (the client's serialisation, the round trip and PostgreSQL's work) for each form.
 *
 *   npx tsx src/probe-pg-insert-forms.ts [B, default 1000] [rounds, default 8]
 *   PROBE_DB names the database (default zbench_probe_insert_forms)
 *
 * Forms: `jsonb-elements` one JSON array, each field read with ->> (the store before decision 042);
 * `jsonb-recordset` the same array typed by jsonb_to_recordset; `arrays-all` one array per parameter
 * (unnest); `arrays-present` one array per parameter that is not NULL in every row, the others written as
 * NULL (the store's form since decision 042).
 */
import pg from "pg";
import { pgType } from "../../dist/state/expr.js";
import { TRANSITIONS } from "../../dist/state/transitions.js";
import { openStore } from "../../dist/store/open-store.js";
import { insertLists } from "../../dist/store/transition-sql.js";
import { creationParams } from "../../dist/store/writes.js";
import { freshProbeDatabase } from "./pg-admin.js";
import { probeDatabase } from "./probe-knobs.js";

const [b = "1000", r = "8"] = process.argv.slice(2);
const batch = Number(b);
const rounds = Number(r);

/** The `create` transition's columns and values, each parameter rendered by `param` (as the store does). */
const lists = (param: (name: string, type: string) => string) => insertLists(TRANSITIONS.create, { dialect: "postgres", param });
const PARAMS = new Map<string, string>();
const { columns } = lists((name, type) => {
  PARAMS.set(name, pgType(type as never));
  return "NULL";
});
const NAMES = [...PARAMS.keys()];
const TAIL = "ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id";
const insert = (values: string, from: string) => `INSERT INTO zart.executions (${columns}) SELECT ${values} FROM ${from} ${TAIL}`;
const arrays = (names: readonly string[]) =>
  `unnest(${names.map((n, k) => `$${k + 1}::${PARAMS.get(n)}[]`).join(", ")}) WITH ORDINALITY AS b(${names.join(", ")}, ord) ORDER BY b.ord`;

type Row = Record<string, string | number | null>;
/** The parameters a plain queued execution sets (the others are NULL in every row). */
const PRESENT = NAMES.filter((n) => creationParams(newExecution(0))[n] !== null);
const FORMS: Record<string, { text: string; values(rows: Row[]): unknown[] }> = {
  "jsonb-elements": {
    text: insert(
      lists((n) => `(b.p->>'${n}')::${PARAMS.get(n)}`).values,
      "jsonb_array_elements($1::jsonb) WITH ORDINALITY AS b(p, ord) ORDER BY b.ord",
    ),
    values: (rows) => [JSON.stringify(rows)],
  },
  "jsonb-recordset": {
    text: insert(
      lists((n) => `b.${n}`).values,
      `ROWS FROM (jsonb_to_recordset($1::jsonb) AS (${NAMES.map((n) => `${n} ${PARAMS.get(n)}`).join(", ")})) ` +
        `WITH ORDINALITY AS b(${NAMES.join(", ")}, ord) ORDER BY b.ord`,
    ),
    values: (rows) => [JSON.stringify(rows)],
  },
  "arrays-all": {
    text: insert(lists((n) => `b.${n}`).values, arrays(NAMES)),
    values: (rows) => NAMES.map((n) => rows.map((row) => row[n])),
  },
  "arrays-present": {
    text: insert(lists((n) => (PRESENT.includes(n) ? `b.${n}` : `NULL::${PARAMS.get(n)}`)).values, arrays(PRESENT)),
    values: (rows) => PRESENT.map((n) => rows.map((row) => row[n])),
  },
};

let seq = 0;
function newExecution(i: number) {
  const now = Date.now();
  return {
    id: `exec-${now.toString(36)}${i.toString(36).padStart(16, "0")}`,
    task: "bench-w0",
    dataJson: JSON.stringify({ i }),
    idempotencyKey: null,
    now,
  };
}
const rows = (): Row[] => Array.from({ length: batch }, () => creationParams(newExecution(seq++)) as Row);

const db = await freshProbeDatabase(probeDatabase("zbench_probe_insert_forms"));
const store = await openStore(db.url, { schema: "zart" });
await store.migrate();
await store.close();
const client = new pg.Client(db.url);
await client.connect();
const time = async (form: string): Promise<number> => {
  const { text, values } = FORMS[form]!;
  const input = rows();
  const t = performance.now();
  await client.query({ name: form, text, values: values(input) });
  return performance.now() - t;
};
const forms = Object.keys(FORMS);
for (const form of forms) await time(form);
const perForm = new Map<string, number[]>(forms.map((f) => [f, []]));
for (let round = 0; round < rounds; round++) {
  for (const form of forms) {
    let sum = 0;
    for (let k = 0; k < 5; k++) sum += await time(form);
    perForm.get(form)!.push(sum / 5);
  }
}
const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
for (const [form, ms] of perForm) {
  console.log(JSON.stringify({ form, batch, medianMs: +median(ms).toFixed(2), rounds: ms.map((v) => +v.toFixed(2)) }));
}
await client.end();
await db.drop();
