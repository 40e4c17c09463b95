/**
 * What `zart` prints from the server cannot act on the operator's terminal: step and event names,
 * errors, idempotency keys and output written by tasks or API callers may hold escape sequences, a
 * bell, a carriage return or line breaks, and the human output shows each as an escape (`\u001b`,
 * `\r`, `\n`) instead, on stdout and in the error lines on stderr. Real server, real commands.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { renderTable } from "../src/cli/format/layout.js";
import { PLAIN } from "../src/cli/format/palette.js";
import { progressText } from "../src/cli/format/progress.js";
import { childEnv, runToEnd } from "./support/child-process.js";
import { cliArgs } from "./support/cli-entry.js";
import { call, eventually, type ServerProcess, startServer } from "./support/server-process.js";

const FIXTURE = new URL("./fixtures/escape-tasks.ts", import.meta.url).pathname;
/** Every character a terminal acts on, but the line feeds that end lines. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what this looks for
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
/** The fixture's NASTY as the output shows it. */
const SHOWN = String.raw`\u001b[2J\u001b]0;pwned\u0007\r\u009b31m`;

async function zart(args: readonly string[], env: Record<string, string>) {
  const { code, stdout, stderr } = await runToEnd(process.execPath, [...cliArgs("zart"), ...args], { env: childEnv(env) });
  assert.doesNotMatch(stdout, ACTIVE, `stdout of zart ${args.join(" ")}:\n${JSON.stringify(stdout)}`);
  assert.doesNotMatch(stderr, ACTIVE, `stderr of zart ${args.join(" ")}:\n${JSON.stringify(stderr)}`);
  return { code, out: stdout, err: stderr };
}

async function start(url: string, task: string, extra: Record<string, unknown> = {}): Promise<string> {
  const started = await call(`${url}/api/v1/executions`, { json: { task, data: {}, ...extra } });
  assert.equal(started.status, 201, started.text);
  return (started.body as { execution_id: string }).execution_id;
}

describe("zart prints what the server holds without letting it act on the terminal", () => {
  let server: ServerProcess;
  let env: Record<string, string>;

  before(async () => {
    server = await startServer({ args: ["--tasks", FIXTURE] });
    env = { ZART_SERVER: server.url };
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it("steps, get and wait show names and errors with their control characters escaped", async () => {
    const id = await start(server.url, "nasty-failure");
    const wait = await zart(["wait", id], env);
    assert.equal(wait.code, 1, wait.err);
    // The message's own line break is kept (indented under "error"); what else it holds is escaped.
    assert.match(wait.out, /\n {2}StepFailedError: .*first line\n {2}second/);
    assert.ok(wait.out.includes(`second${SHOWN}line`), wait.out);

    const steps = await zart(["steps", id], env);
    assert.equal(steps.code, 0, steps.err);
    assert.ok(steps.out.includes(`named${SHOWN}`), steps.out);
    assert.ok(steps.out.includes(String.raw`Evil${SHOWN}Error: first line\nsecond${SHOWN}line [C${SHOWN}]`), steps.out);
    // One line per step: a line break in an error does not break the table.
    assert.equal(steps.out.split("\n").filter((line) => /^\d+ {2}/.test(line)).length, 2, steps.out);

    const get = await zart(["get", id], env);
    assert.equal(get.code, 0, get.err);
    assert.ok(get.out.includes(`second${SHOWN}line`), get.out);
  });

  it("an event name, an idempotency key and output with control characters, and an error message that repeats them", async () => {
    const id = await start(server.url, "nasty-wait", { idempotency_key: `key${"\u001b[2J"}` });
    const event = `go${"\u001b[2J\u001b]0;pwned\u0007\r\u009b31m"}`;
    const waiting = async () => ((await call(`${server.url}/api/v1/executions/${id}`)).body as { status: string }).status === "waiting";
    await eventually(async () => (await waiting()) || undefined, 15_000, `${id} waiting`);
    const get = await zart(["get", id], env);
    assert.ok(get.out.includes(`waiting (for event "go${SHOWN}")`), get.out);
    assert.ok(get.out.includes(String.raw`key\u001b[2J`), get.out);

    const wrong = await zart(["send", id, `no${"\u001b[2J"}`], env);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /^error: not_waiting_for_event: .*no\\u001b\[2J/);

    const sent = await zart(["send", id, event], env);
    assert.equal(sent.code, 0, sent.err);
    assert.equal(sent.out, `event "go${SHOWN}" delivered to ${id}\n`);

    const wait = await zart(["wait", id], env);
    assert.equal(wait.code, 0, wait.err);
    // Output is JSON: control characters in it are JSON escapes already, and C1 ones become escapes too.
    assert.ok(wait.out.includes(String.raw`"text": "out\u001b[2J\u001b]0;pwned\u0007\r\u009b31m"`), wait.out);
  });
});

describe("tables with names in any script", () => {
  it("measure wide characters as two columns and combining marks as none, so the columns line up", () => {
    const table = renderTable(
      ["NAME", "KIND"],
      [
        ["承認待ち", "event"],
        ["cafe\u0301", "step"],
        ["🚀 launch", "step"],
        ["plain", "step"],
      ],
      PLAIN,
    );
    // Each KIND starts at column 11: the widest name, "🚀 launch", takes 9 columns, then the gap of 2.
    assert.equal(table, ["NAME       KIND", "承認待ち   event", "cafe\u0301       step", "🚀 launch  step", "plain      step"].join("\n"));
  });
});

describe("the spinner of zart wait", () => {
  it("shows a step or event name's control characters as escapes", () => {
    const state = { status: "waiting" as const, current_step: null, waiting_for_event: "go\u001b[2J\u0007" };
    assert.equal(progressText("exec-1", state, 0), String.raw`exec-1 · waiting · event go\u001b[2J\u0007 · 0.0s`);
  });
});
