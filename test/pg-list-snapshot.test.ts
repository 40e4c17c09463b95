/**
 * PostgreSQL: a list's page and its total come from one snapshot. While another store on the schema keeps
 * creating executions, every page that holds all the matching rows (fewer than its limit) holds exactly
 * `total` of them. Read on two connections, as before, a creation committed between the page's read and
 * the count's made the two disagree within one answer.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { TestSchema } from "./support/postgres.js";
import { create, newId } from "./support/store-fixtures.js";

const schema = new TestSchema("lst");
let writer: PostgresStore;
let reader: PostgresStore;

before(async () => {
  writer = await schema.open();
  reader = await schema.open();
});

after(async () => {
  await writer.close();
  await reader.close();
  await schema.drop();
});

test("while executions are created, a page holding every matching row holds exactly its total", async () => {
  const task = `listed-${newId()}`;
  const CREATED = 400;
  let writing = true;
  const writing$ = (async () => {
    for (let i = 0; i < CREATED; i++) await create(writer, { task });
    writing = false;
  })();
  const disagreements: string[] = [];
  let lists = 0;
  while (writing) {
    const { executions, total } = await reader.listExecutions({ task, status: "pending", limit: 500, offset: 0, order: "asc" });
    lists += 1;
    if (executions.length !== total) disagreements.push(`${executions.length} rows, total ${total}`);
  }
  await writing$;
  assert.deepEqual(disagreements, [], `${disagreements.length} of ${lists} answers`);
  const { executions, total } = await reader.listExecutions({ task, limit: 500, offset: 0, order: "asc" });
  assert.deepEqual([executions.length, total], [CREATED, CREATED]);
});
