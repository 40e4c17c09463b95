/**
 * The `zart` client commands end to end: real `node bin/zart.js …` processes against a real
 * `zart-server` (bundled example tasks, SQLite), for every command whose route the server serves:
 * start (data from --data, --data-file and stdin), get, wait, list, cancel, send, stats; `--json`
 * equal to the API's text, the API's error code and message with exit 1, usage errors with exit 2,
 * an unreachable server, `--token`/`ZART_TOKEN`, and a run under a pseudo-terminal for the spinner.
 *
 * Long because every command runs against the one server this file starts (a server per file is most
 * of the running time); each test is one command's cases.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort } from "./support/http-helpers.js";
import { call, eventually, type ServerProcess, startServer } from "./support/server-process.js";
import { type CliResult, runZart, runZartInPty } from "./support/zart-cli.js";

const dir = mkdtempSync(join(tmpdir(), "zart-cli-client-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const APPROVAL = { approved: true, reviewer: "jane@example.com" };

function idFrom(result: CliResult): string {
  const match = /^(exec-[a-z0-9]+) {2}/.exec(result.out);
  assert.ok(match, `no execution id at the start of ${JSON.stringify(result.out)} (stderr ${JSON.stringify(result.err)})`);
  return match[1] as string;
}

describe("zart client commands against a real server", () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const api = (path: string, init: Parameters<typeof call>[1] = {}) => call(`${server.url}/api/v1${path}`, init);

  async function startWaiting(userId: string): Promise<string> {
    const { body } = await api("/executions", { json: { task: "onboarding", data: { user_id: userId, email: `${userId}@example.com` } } });
    const id = (body as { execution_id: string }).execution_id;
    await eventually(
      async () => ((await api(`/executions/${id}`)).body as { status: string }).status === "waiting" || undefined,
      15_000,
      `${id} waiting`,
    );
    return id;
  }

  before(async () => {
    server = await startServer();
    env = { ZART_SERVER: server.url };
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it("start takes the data from --data, --data-file or stdin (-), and {} when none is given", async () => {
    const file = join(dir, "data.json");
    writeFileSync(file, JSON.stringify({ via: "file" }));
    const runs = await Promise.all([
      runZart(["start", "echo", "--data", '{"via":"flag"}'], { env }),
      runZart(["start", "echo", "--data-file", file], { env }),
      runZart(["start", "echo", "-"], { env, input: '{"via":"stdin"}' }),
      runZart(["start", "echo"], { env }),
    ]);
    const expected = [{ via: "flag" }, { via: "file" }, { via: "stdin" }, {}];
    for (const [i, run] of runs.entries()) {
      assert.equal(run.code, 0, run.err);
      assert.match(run.out, /^exec-[a-z0-9]+ {2}echo {2}(pending|running|completed)\n$/);
      const done = await api(`/executions/${idFrom(run)}/wait?timeout=10`);
      assert.deepEqual((done.body as { output: unknown }).output, { echo: expected[i] });
    }
  });

  it("start --idempotency-key answers the existing execution on a repeat", async () => {
    const first = await runZart(["start", "echo", "--idempotency-key", "cli-key-1"], { env });
    const second = await runZart(["start", "echo", "--idempotency-key", "cli-key-1"], { env });
    assert.equal(first.code, 0, first.err);
    assert.equal(idFrom(second), idFrom(first));
  });

  it("start --wait exits 0 with the output, 1 when the execution fails, 3 at the timeout", async () => {
    const [completed, failed, timedOut] = await Promise.all([
      runZart(["start", "echo", "--data", '{"n":1}', "--wait"], { env }),
      runZart(["start", "flaky", "--data", '{"failures":5}', "--wait", "--timeout", "30"], { env }),
      runZart(["start", "onboarding", "--data", '{"user_id":"u-timeout","email":"t@example.com"}', "--wait", "--timeout", "1"], { env }),
    ]);
    assert.equal(completed.code, 0, completed.err);
    assert.match(
      completed.out,
      /^exec-\w+ {2}echo {2}\w+\nexec-\w+ completed (just now|\d+ s ago)\noutput\n {2}\{\n {4}"echo": \{\n {6}"n": 1\n/,
    );
    assert.equal(failed.code, 1, failed.err);
    assert.match(failed.out, /failed/);
    assert.match(failed.out, /unreliable failed on attempt 5 of 6 \(step "unreliable"\)/);
    assert.equal(timedOut.code, 3, timedOut.err);
    assert.match(timedOut.out, /has not ended: still waiting \(Timeout reached/);
    for (const run of [completed, failed, timedOut]) assert.equal(run.err, "", "no spinner or other noise on a stderr that is not a TTY");
  });

  it("get shows status, current step and times; --json prints the API's text exactly", async () => {
    const id = await startWaiting("u-get");
    const [human, json, apiText] = await Promise.all([
      runZart(["get", id], { env }),
      runZart(["get", id, "--json"], { env }),
      api(`/executions/${id}`),
    ]);
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, new RegExp(`^${id}\\n {2}task {13}onboarding\\n`));
    assert.match(human.out, / {2}status {11}waiting \(for event "manager-approval"\)\n/);
    assert.match(human.out, / {2}current step {5}manager-approval\n/);
    assert.match(human.out, / {2}steps completed {2}3\n/);
    assert.match(human.out, / {2}created {10}\d{4}-\d\d-\d\dT[\d:.]+Z \((just now|\d+ s ago)\)\n/);
    assert.ok(!human.out.includes("\x1b"), "no colour when stdout is not a TTY");
    assert.equal(json.code, 0, json.err);
    assert.equal(json.out, `${apiText.text}\n`);
  });

  it("wait: 3 at the timeout, 0 once an event sent with `zart send` completes it, 1 when cancelled", async () => {
    const id = await startWaiting("u-wait");
    const early = await runZart(["wait", id, "--timeout", "0"], { env });
    assert.equal(early.code, 3);
    assert.equal(early.out, `${id} has not ended: still waiting (Timeout reached. Execution is still running.)\n`);

    const waiting = runZart(["wait", id], { env });
    const sent = await runZart(["send", id, "manager-approval", "-"], { env, input: JSON.stringify(APPROVAL) });
    assert.equal(sent.code, 0, sent.err);
    assert.equal(sent.out, `event "manager-approval" delivered to ${id}\n`);
    const done = await waiting;
    assert.equal(done.code, 0, done.err);
    assert.match(done.out, new RegExp(`^${id} completed .*\\noutput\\n {2}\\{\\n {4}"customer_id": "cus_u-wait"\\n {2}\\}\\n$`));
    assert.equal(done.err, "");

    const [json, apiText] = await Promise.all([runZart(["wait", id, "--json"], { env }), api(`/executions/${id}/wait?timeout=0`)]);
    assert.equal(json.out, `${apiText.text}\n`);

    const other = await startWaiting("u-cancel");
    const cancelled = await runZart(["cancel", other], { env });
    assert.equal(cancelled.code, 0, cancelled.err);
    assert.equal(cancelled.out, `${other} cancelled\n`);
    const [ended, again] = await Promise.all([runZart(["wait", other], { env }), runZart(["cancel", other, "--json"], { env })]);
    assert.equal(ended.code, 1);
    assert.match(ended.out, new RegExp(`^${other} cancelled`));
    assert.equal(again.out, `${(await api(`/executions/${other}/cancel`, { method: "POST" })).text}\n`);
  });

  it("send takes the payload from --data and --data-file too", async () => {
    const [a, b] = await Promise.all([startWaiting("u-send-a"), startWaiting("u-send-b")]);
    const file = join(dir, "approval.json");
    writeFileSync(file, JSON.stringify(APPROVAL));
    const runs = await Promise.all([
      runZart(["send", a, "manager-approval", "--data", JSON.stringify(APPROVAL), "--json"], { env }),
      runZart(["send", b, "manager-approval", "--data-file", file], { env }),
    ]);
    assert.equal(runs[0]?.code, 0, runs[0]?.err);
    assert.deepEqual(JSON.parse(runs[0]?.out ?? ""), { status: "delivered", execution_id: a, event_name: "manager-approval" });
    assert.equal(runs[1]?.out, `event "manager-approval" delivered to ${b}\n`);
    for (const id of [a, b])
      assert.equal(((await api(`/executions/${id}/wait?timeout=10`)).body as { status: string }).status, "completed");
  });

  it("list: filters and paging as a table; --json equal to the API's page", async () => {
    const query = "task=echo&limit=2&offset=1&order=asc";
    const [human, json, apiPage] = await Promise.all([
      runZart(["list", "--task", "echo", "--limit", "2", "--offset", "1", "--order", "asc"], { env }),
      runZart(["list", "--task", "echo", "--limit", "2", "--offset", "1", "--order", "asc", "--json"], { env }),
      api(`/executions?${query}`),
    ]);
    const page = apiPage.body as { executions: Array<{ execution_id: string; status: string }>; total: number };
    assert.ok(page.total >= 5, "the echo executions started above");
    assert.equal(json.out, `${apiPage.text}\n`);
    const rows = human.out.trimEnd().split("\n");
    assert.match(rows[0] ?? "", /^EXECUTION ID +TASK {2}STATUS {5}CREATED {2,}DURATION$/);
    assert.deepEqual(
      rows.slice(1, 3).map((row) => row.split(/\s{2,}/).slice(0, 3)),
      page.executions.map((e) => [e.execution_id, "echo", e.status]),
    );
    assert.equal(rows[3], `2-3 of ${page.total}; next page: --offset 3`);

    const waiting = await runZart(["list", "--status", "waiting", "--task", "onboarding"], { env });
    const waitingRows = waiting.out.trimEnd().split("\n").slice(1, -1);
    assert.ok(waitingRows.length >= 1);
    for (const row of waitingRows) assert.match(row, /^exec-\w+ +onboarding +waiting /);
  });

  it("stats: a table by status; --json equal to the API", async () => {
    const [human, json, apiStats] = await Promise.all([runZart(["stats"], { env }), runZart(["stats", "--json"], { env }), api("/stats")]);
    assert.equal(json.out, `${apiStats.text}\n`);
    const counts = apiStats.body as Record<string, number>;
    const lines = human.out.trimEnd().split("\n");
    assert.equal(lines[0], "STATUS     COUNT");
    for (const status of ["pending", "running", "waiting", "completed", "failed", "cancelled"]) {
      assert.ok(lines.includes(`${status.padEnd(9)}  ${String(counts[status]).padStart(5)}`), `${status} row in ${human.out}`);
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    assert.equal(lines.at(-1), `total      ${String(total).padStart(5)}`);
  });

  it("API errors: exit 1 with the code and message; --json prints the error body", async () => {
    const completed = idFrom(await runZart(["start", "echo", "--wait"], { env }));
    const waiting = await startWaiting("u-errors");
    const [unknown, unknownJson, notCancellable, notWaiting, noTask, badPayload, apiError] = await Promise.all([
      runZart(["get", "exec-doesnotexist1"], { env }),
      runZart(["get", "exec-doesnotexist1", "--json"], { env }),
      runZart(["cancel", completed], { env }),
      runZart(["send", completed, "manager-approval"], { env }),
      runZart(["start", "no-such-task"], { env }),
      runZart(["send", waiting, "manager-approval", "--data", '{"approved":"yes"}'], { env }),
      api("/executions/exec-doesnotexist1"),
    ]);
    assert.deepEqual(unknown, { code: 1, out: "", err: "error: execution_not_found: No execution found with ID exec-doesnotexist1\n" });
    assert.equal(unknownJson.code, 1);
    assert.equal(unknownJson.out, `${apiError.text}\n`);
    assert.equal(unknownJson.err, "error: execution_not_found: No execution found with ID exec-doesnotexist1\n");
    assert.equal(notCancellable.code, 1);
    assert.match(notCancellable.err, new RegExp(`^error: execution_not_cancellable: Execution ${completed} is completed`));
    assert.equal(notWaiting.code, 1);
    assert.match(notWaiting.err, /^error: not_waiting_for_event: /);
    assert.equal(noTask.code, 1);
    assert.match(noTask.err, /^error: task_not_registered: .*no-such-task/);
    assert.equal(badPayload.code, 1);
    assert.match(badPayload.err, /^error: invalid_data: payload\.reviewer is required\n$/);
  });

  it("usage errors exit 2 with a message and send nothing", async () => {
    const before = (await api("/stats")).text;
    const cases: Array<[string[], RegExp, string?]> = [
      [["list", "--status", "bogus"], /Allowed choices are pending, running/],
      [["list", "--limit", "ten"], /--limit .* expected a whole number of 1 or more/],
      [["list", "--order", "up"], /Allowed choices are asc, desc/],
      [["wait", "exec-x", "--timeout", "soon"], /whole number of seconds/],
      [["get"], /missing required argument 'id'/],
      [["get", "exec-a", "exec-b"], /too many arguments/],
      [["start", "echo", "--data", "{oops"], /--data is not valid JSON/],
      [["start", "echo", "--data", "{}", "-"], /give the data once: --data and -/, "{}"],
      [["start", "echo", "--data-file", join(dir, "missing.json")], /cannot read --data-file/],
      [["start", "echo", "--timeout", "5"], /--timeout needs --wait/],
      [["start", "echo", "extra"], /unexpected "extra"/],
      [["stats", "--bogus"], /unknown option '--bogus'/],
      [["stats", "--server", "localhost:7700"], /server must be an http:\/\/ or https:\/\/ URL/],
      [["prune"], /required option '--older-than <duration>' not specified/],
      [["prune", "--older-than", "soon"], /Invalid duration/],
      [["schedules", "create", "nightly", "--cron", "0 3 * * *"], /required option '--task <task>'/],
      [["schedules", "frobnicate"], /unknown command 'frobnicate'/],
    ];
    const runs = await Promise.all(cases.map(([args, , input]) => runZart(args, { env, input })));
    for (const [i, run] of runs.entries()) {
      const [args, message] = cases[i] as [string[], RegExp];
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.err}`);
      assert.match(run.err, /error/, args.join(" "));
      assert.match(run.err, message, args.join(" "));
    }
    assert.equal((await api("/stats")).text, before, "no execution was started by a usage error");
  });

  it("an unreachable server: exit 1 with a message naming its URL", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const [byFlag, byEnv] = await Promise.all([
      runZart(["stats", "--server", url], { env }),
      runZart(["list"], { env: { ZART_SERVER: url } }),
    ]);
    for (const run of [byFlag, byEnv]) {
      assert.equal(run.code, 1);
      assert.equal(run.out, "");
      assert.equal(
        run.err,
        `error: cannot reach the Zart server at ${url} (connection refused). Is zart-server running there? Set --server or ZART_SERVER.\n`,
      );
    }
  });
});

describe("zart client commands with a token configured", () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({ env: { ZART_API_TOKEN: "s3cret-token" } });
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it("without or with a wrong token: unauthorized; --token or ZART_TOKEN: answered", async () => {
    const env = { ZART_SERVER: server.url };
    const [none, wrong, flag, fromEnv, flagOverEnv] = await Promise.all([
      runZart(["stats"], { env }),
      runZart(["stats", "--token", "nope"], { env }),
      runZart(["stats", "--token", "s3cret-token", "--json"], { env }),
      runZart(["start", "echo", "--data", '{"t":1}', "--wait"], { env: { ...env, ZART_TOKEN: "s3cret-token" } }),
      runZart(["stats", "--token", "s3cret-token"], { env: { ...env, ZART_TOKEN: "wrong" } }),
    ]);
    for (const run of [none, wrong]) {
      assert.equal(run.code, 1);
      assert.match(run.err, /^error: unauthorized: /);
    }
    assert.equal(flag.code, 0, flag.err);
    assert.deepEqual(Object.keys(JSON.parse(flag.out)).sort(), ["cancelled", "completed", "failed", "pending", "running", "waiting"]);
    assert.equal(fromEnv.code, 0, fromEnv.err);
    assert.match(fromEnv.out, /completed/);
    assert.equal(flagOverEnv.code, 0, flagOverEnv.err);
  });
});

describe("zart wait on a terminal", () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  /** The spinner's frames that the terminal showed. */
  const frames = (output: string) => Array.from(output).filter((char) => "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏".includes(char));
  /** Select Graphic Rendition (colour, bold) escape codes. */
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape codes are what this looks for
  const SGR = /\u001b\[[0-9;]*m/;

  it("draws a spinner on stderr with the elapsed time and the awaited event, then the result in colour", async () => {
    const { body } = await call(`${server.url}/api/v1/executions`, {
      json: { task: "onboarding", data: { user_id: "u-tty", email: "t@example.com" } },
    });
    const id = (body as { execution_id: string }).execution_id;
    const pty = runZartInPty(["wait", id, "--server", server.url]);
    await pty.waitFor(new RegExp(`${id} · waiting · event manager-approval · 1\\.\\ds`));
    const sent = await call(`${server.url}/api/v1/events/${id}/manager-approval`, { json: APPROVAL });
    assert.equal(sent.status, 200);
    assert.equal(await pty.exited, 0, pty.output());
    const output = pty.output();
    assert.ok(new Set(frames(output)).size >= 3, "the frames turn");
    assert.match(output, / 0\.\ds/, "elapsed time from the start");
    assert.ok(output.includes("\x1b[?25l") && output.includes("\x1b[?25h"), "the cursor is hidden while spinning and shown again");
    assert.ok(output.includes(`\x1b[1m${id}\x1b[22m \x1b[32mcompleted\x1b[39m`), "the result line is coloured on a TTY");
    assert.match(output, /"customer_id": "cus_u-tty"/);
  });

  it("start --wait shows the current step (a sleep) and, with NO_COLOR, no colour", async () => {
    const pty = runZartInPty(["start", "sleep", "--data", '{"seconds":1}', "--wait", "--server", server.url], { env: { NO_COLOR: "1" } });
    await pty.waitFor(/exec-\w+ · waiting · step nap · \d\.\ds/);
    assert.equal(await pty.exited, 0, pty.output());
    const output = pty.output();
    assert.match(output, /completed/);
    assert.match(output, /"slept": 1/);
    assert.doesNotMatch(output, SGR, "no colour or bold codes under NO_COLOR");
    assert.ok(frames(output).length > 0, "a spinner was drawn");
  });
});
