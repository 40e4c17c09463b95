/**
 * `zart schedules list | get | create | delete | pause | resume` end to end: real `node bin/zart.js`
 * processes against a real `zart-server` (SQLite) loading a task module that declares schedules in code.
 * Human output, `--json` equal to the API's JSON, and the API's error codes with exit 1. The client SDK's
 * schedule methods run against the same server.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ZartClient } from "../src/client/index.js";
import { call, type ServerProcess, startServer } from "./support/server-process.js";
import { runZart } from "./support/zart-cli.js";

describe("zart schedules against a real server", () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const zart = (args: string[], input?: string) => runZart(args, { env, input });
  const apiText = async (path: string) => (await call(`${server.url}/api/v1${path}`)).text;

  before(async () => {
    server = await startServer({ args: ["--tasks", "test/fixtures/schedule-tasks.ts"] });
    env = { ZART_SERVER: server.url };
    // The every-second code schedule would change its last tick between two reads: stop it first.
    const paused = await zart(["schedules", "pause", "heartbeat"]);
    assert.equal(paused.code, 0, paused.err);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it("list: a table of every schedule with its state and next fire time; --json is the API's JSON", async () => {
    const [list, json] = await Promise.all([zart(["schedules", "list"]), zart(["schedules", "list", "--json"])]);
    assert.equal(list.code, 0, list.err);
    assert.equal(
      list.out,
      [
        "SCHEDULE ID  TASK    CRON         TIMEZONE      OVERLAP  STATE   NEXT FIRE",
        "heartbeat    report  * * * * * *  UTC           allow    paused  -",
        "hourly       report  0 * * * *    Asia/Kolkata  skip     paused  -",
        "",
      ].join("\n"),
    );
    assert.equal(json.out, `${await apiText("/schedules")}\n`);
  });

  it("create with every flag, get, pause, resume, delete; then get is schedule_not_found with exit 1", async () => {
    const created = await zart([
      "schedules",
      "create",
      "nightly-report",
      "--task",
      "report",
      "--cron",
      "0 3 * * *",
      "--timezone",
      "Europe/Berlin",
      "--overlap",
      "buffer_one",
      "--data",
      '{"format":"pdf"}',
    ]);
    assert.equal(created.code, 0, created.err);
    assert.match(
      created.out,
      /^nightly-report\n {2}task {8}report\n {2}cron {8}0 3 \* \* \*\n {2}timezone {4}Europe\/Berlin\n {2}overlap {5}buffer_one\n {2}state {7}active\n {2}source {6}api\n/,
    );
    const fires = [...created.out.matchAll(/^ {2}(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z) \(in /gm)].map((m) => m[1] as string);
    assert.equal(fires.length, 5, created.out);
    for (const at of fires) {
      const local = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit" }).format(
        new Date(at),
      );
      assert.equal(local, "03:00");
    }
    assert.match(created.out, /\ndata\n {2}\{\n {4}"format": "pdf"\n {2}\}\n$/);

    const json = await zart(["schedules", "get", "nightly-report", "--json"]);
    assert.equal(json.out, `${await apiText("/schedules/nightly-report")}\n`);
    assert.deepEqual(JSON.parse(json.out).next_fire_times, fires);

    const paused = await zart(["schedules", "pause", "nightly-report"]);
    assert.match(paused.out, /\n {2}state {7}paused\n/);
    assert.doesNotMatch(paused.out, /next fire times/);
    const resumed = await zart(["schedules", "resume", "nightly-report", "--json"]);
    assert.deepEqual([JSON.parse(resumed.out).paused, JSON.parse(resumed.out).next_fire_times], [false, fires]);

    const deleted = await zart(["schedules", "delete", "nightly-report"]);
    assert.deepEqual(deleted, { code: 0, out: "schedule nightly-report deleted\n", err: "" });
    const gone = await zart(["schedules", "get", "nightly-report"]);
    assert.deepEqual(gone, { code: 1, out: "", err: "error: schedule_not_found: No schedule found with ID nightly-report\n" });
    const deletedAgain = await zart(["schedules", "delete", "nightly-report", "--json"]);
    assert.equal(deletedAgain.code, 1);
    assert.equal(deletedAgain.err, "error: schedule_not_found: No schedule found with ID nightly-report\n");
  });

  it("create takes the data from stdin; a minimal create is skip, UTC, {}; errors are the API's code and message", async () => {
    const minimal = await zart(["schedules", "create", "every-5", "--task", "report", "--cron", "*/5 * * * *", "-"], '{"format":"csv"}');
    assert.equal(minimal.code, 0, minimal.err);
    const body = JSON.parse(await apiText("/schedules/every-5"));
    assert.deepEqual([body.timezone, body.overlap, body.paused, body.data], ["UTC", "skip", false, { format: "csv" }]);
    const taken = await zart(["schedules", "create", "every-5", "--task", "report", "--cron", "* * * * *", "--data", '{"format":"x"}']);
    assert.deepEqual(taken, { code: 1, out: "", err: "error: schedule_already_exists: A schedule with ID every-5 already exists\n" });
    const badCron = await zart(["schedules", "create", "bad", "--task", "report", "--cron", "61 * * * *", "--data", '{"format":"x"}']);
    assert.deepEqual(badCron, {
      code: 1,
      out: "",
      err: 'error: invalid_data: cron "61 * * * *" is not valid: Invalid value for minute: 61\n',
    });
    const badData = await zart(["schedules", "create", "bad", "--task", "report", "--cron", "* * * * *"]);
    assert.equal(badData.code, 1);
    assert.match(badData.err, /^error: invalid_data: data.*format/);
    const badOverlap = await zart(["schedules", "create", "bad", "--task", "report", "--cron", "* * * * *", "--overlap", "queue"]);
    assert.equal(badOverlap.code, 2, "a value outside the choices is a usage error");
    const paused = await zart([
      "schedules",
      "create",
      "quiet",
      "--task",
      "report",
      "--cron",
      "* * * * *",
      "--data",
      '{"format":"x"}',
      "--paused",
      "--json",
    ]);
    assert.deepEqual([JSON.parse(paused.out).paused, JSON.parse(paused.out).next_fire_times], [true, []]);
  });

  it("the client SDK: create, list, get, pause, resume, delete; ids are escaped into the path", async () => {
    const client = new ZartClient({ baseUrl: server.url });
    const created = await client.schedules.create({
      schedule_id: "sdk-1",
      task: "report",
      cron: "0 12 * * 1",
      data: { format: "x" },
      overlap: "allow",
    });
    assert.deepEqual([created.schedule_id, created.overlap, created.source, created.next_fire_times?.length], ["sdk-1", "allow", "api", 5]);
    assert.ok((await client.schedules.list()).schedules.some((s) => s.schedule_id === "sdk-1"));
    assert.deepEqual(await client.schedules.get("sdk-1"), created);
    assert.equal((await client.schedules.pause("sdk-1")).paused, true);
    assert.equal((await client.schedules.resume("sdk-1")).paused, false);
    assert.deepEqual(await client.schedules.delete("sdk-1"), { schedule_id: "sdk-1", deleted: true });
    await assert.rejects(client.schedules.get("a/b c"), (error: { code: string; message: string }) => {
      assert.equal(error.code, "schedule_not_found");
      assert.match(error.message, /No schedule found with ID a\/b c/);
      return true;
    });
  });
});
