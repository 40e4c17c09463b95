/** Timeouts against retries and late events on PostgreSQL (the cases: support/timeouts-suite.ts). */
import { after } from "node:test";
import { TestSchema } from "./support/postgres.js";
import { timeoutsSuite } from "./support/timeouts-suite.js";

const schema = new TestSchema("timeouts");
after(() => schema.drop());

timeoutsSuite("PostgreSQL", async () => {
  await schema.truncate();
  return schema.open();
});
