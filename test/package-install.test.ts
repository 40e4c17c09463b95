/**
 * The package as a user gets it: `npm pack` (which builds dist/ through `prepack`), installed into a
 * throwaway project from the tarball, then used with plain `node` (no tsx, no loader) and type-checked by
 * strict TypeScript consumers with `nodenext` and `bundler` resolution and no `@types` packages at all.
 *
 * The install resolves every dependency as a user's would (`--prefer-offline` takes them from the npm
 * cache that `npm ci` filled, and from the registry otherwise). It runs with `--ignore-scripts` and then
 * copies this checkout's compiled better-sqlite3 addon (the same pinned version, built for this Node) into
 * place: compiling it again would take about a minute, and nothing else in the package has an install step
 * that matters here (esbuild's only checks its binary, which npm installs as an optional dependency).
 *
 * Long because the pack and install (the file's slow part) are done once and every consumer check uses
 * that one install.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { childEnv, type Finished, runToEnd, WatchedProcess } from "./support/child-process.js";
import { libraryExamples } from "./support/doc-examples.js";

/** Pages of docs/ whose one runnable example (a `// file:` block and its console block) is run here. */
const FEATURE_PAGES = ["children.md", "concurrency.md", "priority-and-delay.md", "buffered-events.md", "retention.md"];

const ROOT = new URL("..", import.meta.url).pathname;
const TSC = join(ROOT, "node_modules/.bin/tsc");
const PACKAGE = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  devDependencies: Record<string, string>;
};
const VERSION = PACKAGE.version;

/** No tsx or npm lifecycle settings inherited from the test run: the package runs as a user's would. */
function userEnv(): Record<string, string | undefined> {
  const env = childEnv();
  delete env.NODE_OPTIONS;
  for (const key of Object.keys(env)) if (key.startsWith("npm_")) delete env[key];
  return env;
}

/** Runs a command to completion (bounded) in `cwd`. */
function run(command: string, args: string[], options: { cwd: string; timeoutMs?: number }): Promise<Finished> {
  return runToEnd(command, args, { cwd: options.cwd, env: userEnv(), timeoutMs: options.timeoutMs ?? 120_000 });
}

function ok(result: Finished, what: string): Finished {
  assert.equal(result.code, 0, `${what} failed:\n${result.stdout}\n${result.stderr}`);
  return result;
}

const work = mkdtempSync(join(tmpdir(), "zart-package-"));
const app = join(work, "app");
let packed: { filename: string; files: { path: string }[] };
let install: Finished;

before(async () => {
  const pack = ok(await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: ROOT }), "npm pack");
  const reports = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as (typeof packed)[];
  packed = reports[0]!;
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({
      name: "zart-consumer",
      private: true,
      type: "module",
      // zod, valibot, arktype and @types/node for the examples of docs/library.md (the strict consumer
      // check loads no @types).
      dependencies: {
        zart: `file:../${packed.filename}`,
        zod: PACKAGE.devDependencies.zod,
        valibot: PACKAGE.devDependencies.valibot,
        arktype: PACKAGE.devDependencies.arktype,
        "@types/node": PACKAGE.devDependencies["@types/node"],
      },
    }),
  );
  install = ok(
    await run("npm", ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: app }),
    "npm install of the tarball",
  );
  const addon = "node_modules/better-sqlite3/build/Release/better_sqlite3.node";
  mkdirSync(join(app, "node_modules/better-sqlite3/build/Release"), { recursive: true });
  copyFileSync(join(ROOT, addon), join(app, addon));
});

after(() => rmSync(work, { recursive: true, force: true }));

describe("the packed package", () => {
  test("ships only dist/, bin/, src/ (for the maps), dashboard/, README and package.json, and installs without engine warnings", () => {
    const paths = packed.files.map((f) => f.path);
    for (const path of paths) {
      assert.match(path, /^(dist|bin|src|dashboard)\/|^(package\.json|README\.md|LICENSE)$/, `unexpected file in the tarball: ${path}`);
    }
    for (const needed of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/index.d.ts.map",
      "dist/client/index.d.ts",
      "dist/testing/index.js",
      "dist/store/sqlite/migrations/0001-initial-schema.sql",
      "dist/store/sqlite/migrations/0002-leases.sql",
      "dist/store/postgres/migrations/0001-initial-schema.sql",
      "dashboard/index.html",
    ]) {
      assert.ok(paths.includes(needed), `${needed} is missing from the tarball`);
    }
    assert.ok(!paths.some((p) => p.startsWith("test/") || p.startsWith("bench/")), "no tests or benchmarks");
    const output = install.stdout + install.stderr;
    assert.doesNotMatch(output, /EBADENGINE/, output);
  });

  test("runs a workflow with plain node: Engine on a SQLite file, schedule, wait, output", async () => {
    writeFileSync(
      join(app, "workflow.mjs"),
      `import assert from "node:assert/strict";
import { defineTask, Engine, openStore, silentLogger } from "zart";
import { ZartClient } from "zart/client";
import { createTestEngine, ManualClock } from "zart/testing";

assert.equal(typeof ZartClient, "function");
assert.equal(typeof createTestEngine, "function");
assert.equal(typeof ManualClock, "function");

const greet = defineTask({
  name: "greet",
  input: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
  async run(ctx, data) {
    const text = await ctx.step("compose", () => "Hello, " + data.name + "!");
    await ctx.sleep("pause", "10ms");
    return { text, length: text.length };
  },
});

const store = await openStore(process.argv[2]);
const engine = await Engine.start({ store, tasks: [greet], logger: silentLogger });
const { execution } = await engine.schedule({ task: "greet", data: { name: "Ada" } });
const done = await engine.waitForTerminal(execution.id, 30_000);
await engine.stop();
await store.close();
console.log(JSON.stringify({ status: done.status, output: JSON.parse(done.outputJson), execArgv: process.execArgv }));
`,
    );
    const result = ok(await run(process.execPath, ["workflow.mjs", join(work, "workflow.db")], { cwd: app }), "node workflow.mjs");
    const printed = JSON.parse(result.stdout) as { status: string; output: unknown; execArgv: string[] };
    assert.deepEqual(printed, { status: "completed", output: { text: "Hello, Ada!", length: 11 }, execArgv: [] });
  });

  test("loads TypeBox's runtime from its one bundled file, never from typebox's own modules, and validates with it", async () => {
    // A resolve hook that refuses every module inside the installed typebox package.
    writeFileSync(
      join(app, "no-typebox-hook.mjs"),
      `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.includes("/node_modules/typebox/")) throw new Error("typebox module loaded: " + resolved.url);
  return resolved;
}
`,
    );
    writeFileSync(
      join(app, "no-typebox.mjs"),
      `import { register } from "node:module";\nregister("./no-typebox-hook.mjs", import.meta.url);\n`,
    );
    writeFileSync(
      join(app, "validate.mjs"),
      `import { defineTask, Engine, openStore, silentLogger } from "zart";
const task = defineTask({
  name: "typed",
  input: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
  async run(_ctx, data) { return data.n; },
});
const store = await openStore(process.argv[2]);
const engine = await Engine.start({ store, tasks: [task], logger: silentLogger, worker: false });
const refused = await engine.schedule({ task: "typed", data: { n: "one" } }).then(() => "accepted", (error) => error.code);
const { execution } = await engine.schedule({ task: "typed", data: { n: 1 } });
await engine.stop();
await store.close();
console.log(JSON.stringify({ refused, status: execution.status }));
`,
    );
    const bundled = readFileSync(join(app, "node_modules/zart/dist/core/typebox.js"), "utf8");
    assert.doesNotMatch(bundled, /\bfrom\s*["']typebox|import\(\s*["']typebox/, "the bundle imports nothing from typebox");
    const result = ok(
      await run(process.execPath, ["--import", "./no-typebox.mjs", "validate.mjs", join(work, "validate.db")], { cwd: app }),
      "node validate.mjs without typebox's modules",
    );
    assert.deepEqual(JSON.parse(result.stdout), { refused: "invalid_data", status: "pending" });
  });

  test("the bins run the compiled CLI, and a worker loads a TypeScript task module", async () => {
    const bin = join(app, "node_modules/.bin/zart");
    assert.equal(ok(await run(bin, ["--version"], { cwd: app }), "zart --version").stdout.trim(), VERSION);
    writeFileSync(
      join(app, "tasks.ts"),
      `import { defineTask } from "zart";
interface Shout { text: string }
export const shout = defineTask({
  name: "shout",
  async run(ctx, data: Shout) {
    return ctx.step("upper", (): string => data.text.toUpperCase());
  },
});
`,
    );
    const db = join(work, "worker.db");
    const worker = new WatchedProcess(
      "installed worker",
      bin,
      ["worker", "--tasks", "./tasks.ts", "--database", db, "--log-level", "warn"],
      {
        cwd: app,
        env: userEnv(),
      },
    );
    try {
      await worker.waitForLine((line) => line.startsWith("zart worker running"), "its start-up line", 60_000);
      writeFileSync(
        join(app, "schedule.mjs"),
        `import { Engine, openStore, silentLogger } from "zart";
const store = await openStore(process.argv[2]);
const api = await Engine.start({ store, worker: false, logger: silentLogger });
const { execution } = await api.schedule({ task: "shout", data: { text: "from a ts module" } });
const done = await api.waitForTerminal(execution.id, 30_000);
await api.stop();
await store.close();
console.log(done.outputJson);
`,
      );
      const scheduled = ok(await run(process.execPath, ["schedule.mjs", db], { cwd: app }), "node schedule.mjs");
      assert.equal(JSON.parse(scheduled.stdout), "FROM A TS MODULE");
    } finally {
      assert.equal((await worker.stop()).code, 0, worker.tail());
    }
  });

  test("type-checks a strict TypeScript consumer with nodenext and with bundler resolution, no @types installed", async () => {
    writeFileSync(
      join(app, "consumer.ts"),
      `import { defineTask, Engine, type ExecutionRecord, type ExecutionResult, type Logger, openStore, silentLogger, type Store } from "zart";
import { type Execution, ZartClient, ZartHttpError } from "zart/client";
import { createTestEngine, ManualClock, type TestEngine } from "zart/testing";

export const greet = defineTask({
  name: "greet",
  async run(ctx, data: { name: string }) {
    const text = await ctx.step("compose", (step) => {
      step.log.info({ attempt: step.attempt }, "composing");
      return \`Hello, \${data.name}!\`;
    });
    await ctx.sleep("pause", "1s");
    return { text };
  },
});

export async function main(logger: Logger = silentLogger): Promise<string> {
  const store: Store = await openStore("./app.db");
  const engine = await Engine.start({ store, tasks: [greet], logger, worker: { concurrency: 5 } });
  const { execution, created } = await engine.schedule({ task: "greet", data: { name: "Ada" }, idempotencyKey: "k" });
  const done: ExecutionRecord = await engine.waitForTerminal(execution.id, 10_000);
  const page = await engine.list({ limit: 10, offset: 0, order: "desc", status: "completed" });
  await engine.cancel(execution.id).catch(() => undefined);
  await engine.stop();
  await store.close();
  // @ts-expect-error the status is a union of literal strings, so the package's types are real, not any
  const wrong: "nope" = done.status;
  void wrong;
  return \`\${created} \${done.outputJson} \${page.total}\`;
}

export async function viaHttp(): Promise<number> {
  const client = new ZartClient({ baseUrl: "http://127.0.0.1:7700", token: "t" });
  const { execution_id } = await client.schedule("greet", { name: "Ada" });
  const execution: Execution<{ text: string }> = await client.get(execution_id);
  const waited = await client.wait<{ text: string }>(execution_id, { timeoutSeconds: 5 });
  if (waited.done && waited.output) console.log(waited.output.text.length);
  await client.sendEvent(execution_id, "approval", { approved: true });
  await client.cancel(execution_id).catch((error: unknown) => error instanceof ZartHttpError && error.code);
  return execution.steps_completed;
}

// The typed flow, from the published declarations: were they to lose their types (any), each expected
// error below would be missing, which tsc reports as an error of its own.
export const order = defineTask({
  name: "order",
  input: { type: "object", properties: { sku: { type: "string" }, quantity: { type: "integer" } }, required: ["sku", "quantity"] },
  eventSchemas: { shipped: { type: "object", properties: { carrier: { type: "string" } }, required: ["carrier"] } },
  async run(ctx, data) {
    const shipment = await ctx.waitForEvent("shipped");
    // @ts-expect-error the event payload is typed from eventSchemas
    const wrongPayload: number = shipment.carrier;
    void wrongPayload;
    return { sku: data.sku, items: data.quantity, carrier: shipment.carrier };
  },
});

export async function typedFlow(engine: Engine): Promise<string> {
  const run = await engine.schedule(order, { sku: "A-1", quantity: 2 });
  // @ts-expect-error wrong data shape
  await engine.schedule(order, { sku: "A-1", qty: 2 });
  await engine.sendEvent(run, "shipped", { carrier: "DHL" });
  // @ts-expect-error misspelt event
  await engine.sendEvent(run, "shiped", { carrier: "DHL" });
  const done: ExecutionResult<{ sku: string; items: number; carrier: string }> = await engine.result(run);
  // @ts-expect-error the output is typed
  const wrongOutput: number = done.status === "completed" ? done.output.carrier : 0;
  void wrongOutput;
  const client = new ZartClient<[typeof order, typeof greet]>({ baseUrl: "http://127.0.0.1:7700" });
  const scheduled = await client.schedule("order", { sku: "B-2", quantity: 1 });
  // @ts-expect-error unknown task name
  await client.schedule("ordr", { sku: "B-2", quantity: 1 });
  // @ts-expect-error wrong data for the task
  await client.schedule("greet", { sku: "B-2" });
  // @ts-expect-error wrong event payload
  await client.sendEvent(scheduled, "shipped", 42);
  const waited = await client.wait(scheduled);
  return waited.done && waited.output ? waited.output.carrier : "";
}

export async function inTests(): Promise<void> {
  const h: TestEngine = await createTestEngine({ tasks: [greet], clock: new ManualClock(0) });
  const { execution } = await h.engine.schedule({ task: "greet", data: { name: "Ada" } });
  await h.outcome(execution.id, "parked");
  h.clock.advance(1000);
  await h.close();
}
`,
    );
    // types: [] keeps the installed @types/node out: the package's declarations must need no @types.
    const base = { target: "ES2022", strict: true, noEmit: true, skipLibCheck: false, types: [], lib: ["ES2023", "DOM"] };
    const configs = {
      nodenext: { ...base, module: "NodeNext", moduleResolution: "NodeNext" },
      bundler: { ...base, module: "ESNext", moduleResolution: "Bundler" },
    };
    for (const [name, compilerOptions] of Object.entries(configs)) {
      writeFileSync(join(app, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, files: ["consumer.ts"] }));
      const checked = await run(TSC, ["-p", `tsconfig.${name}.json`], { cwd: app });
      assert.equal(checked.code, 0, `tsc (${name}):\n${checked.stdout}${checked.stderr}`);
    }
  });

  test("docs/library.md, docs/schedules.md and the feature pages: their examples type-check (nodenext and bundler) and print what the pages show", async () => {
    const library = [...libraryExamples(join(ROOT, "docs/library.md")), ...libraryExamples(join(ROOT, "docs/schedules.md"))];
    assert.ok(library.length >= 6, `examples found: ${library.map((e) => e.file).join(", ")}`);
    const features = FEATURE_PAGES.map((page) => {
      const found = libraryExamples(join(ROOT, "docs", page));
      assert.equal(found.length, 1, `one runnable example in docs/${page}`);
      return found[0] as (typeof found)[number];
    });
    const examples = [...library, ...features];
    for (const example of examples) writeFileSync(join(app, example.file), example.code);
    const typescript = examples.filter((e) => e.file.endsWith(".ts")).map((e) => e.file);
    const base = { target: "ES2022", strict: true, noEmit: true, skipLibCheck: true, types: ["node"], lib: ["ES2023"] };
    for (const [name, compilerOptions] of Object.entries({
      nodenext: { ...base, module: "NodeNext", moduleResolution: "NodeNext" },
      bundler: { ...base, module: "ESNext", moduleResolution: "Bundler" },
    })) {
      writeFileSync(join(app, `tsconfig.docs-${name}.json`), JSON.stringify({ compilerOptions, files: typescript }));
      const checked = await run(TSC, ["-p", `tsconfig.docs-${name}.json`], { cwd: app });
      assert.equal(checked.code, 0, `tsc (${name}) on ${typescript.join(", ")}:\n${checked.stdout}${checked.stderr}`);
    }
    for (const example of examples) {
      const args = example.command ?? (example.file.endsWith(".test.ts") ? ["--import", "tsx", "--test", example.file] : null);
      if (args === null) continue;
      const result = await run(process.execPath, args, { cwd: app });
      assert.equal(result.code, 0, `${example.file}:\n${result.stdout}\n${result.stderr}`);
      if (example.output !== undefined) assert.equal(result.stdout.trimEnd(), example.output, `the output of ${example.file}`);
    }
  });
});
