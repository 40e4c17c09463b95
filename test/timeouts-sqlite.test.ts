/** Timeouts against retries and late events on SQLite (the cases: support/timeouts-suite.ts). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { openStore } from "../src/store/open-store.js";
import { timeoutsSuite } from "./support/timeouts-suite.js";

const dir = mkdtempSync(join(tmpdir(), "zart-timeouts-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

timeoutsSuite("SQLite", () => openStore(join(dir, `zart-${++files}.db`)));
