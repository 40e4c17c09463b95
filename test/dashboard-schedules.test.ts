/**
 * The dashboard's Schedules page in a real Chromium against a real `zart-server` (SQLite) that loads a
 * task module declaring schedules in code: the list with cron, time zone, overlap and state, the next
 * fire times the API computes, pause and resume from the page (checked through the API), a schedule
 * created over the API appearing, and the empty page once every schedule is deleted.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, openPage, type WatchedPage } from "./support/browser.js";
import { call, type ServerProcess, startServer } from "./support/server-process.js";

type Json = Record<string, unknown>;

let server: ServerProcess;
let browser: Browser;
let watched: WatchedPage;
let page: Page;
let api: string;

before(async () => {
  [server, browser] = await Promise.all([startServer({ args: ["--tasks", "test/fixtures/schedule-tasks.ts"] }), launchBrowser()]);
  api = `${server.url}/api/v1`;
  // The every-second schedule would keep changing; pause it so the page shows steady values.
  assert.equal((await call(`${api}/schedules/heartbeat/pause`, { method: "POST" })).status, 200);
  // UTC in the page, so the times it shows can be compared with the API's.
  watched = await openPage(browser, { timezoneId: "UTC" });
  page = watched.page;
  page.setDefaultTimeout(15_000);
});

after(async () => {
  await browser?.close();
  assert.equal(await server?.stop(), 0);
});

function assertNoProblems(): void {
  assert.deepEqual(watched.problems.splice(0), []);
}

/** How the page writes a time (format.js `absolute`, in UTC here). */
const shown = (iso: string) => iso.replace("T", " ").replace("Z", "");

async function schedule(id: string): Promise<Json> {
  return (await call(`${api}/schedules/${id}`)).body as Json;
}

describe("schedules page", () => {
  it("lists the code schedules and one created over the API, with cron, time zone, overlap, state and next fire times", async () => {
    const created = await call(`${api}/schedules`, {
      json: { schedule_id: "nightly-report", task: "report", cron: "0 3 * * *", timezone: "Europe/Berlin", data: { format: "pdf" } },
    });
    assert.equal(created.status, 201, created.text);
    await page.goto(`${server.url}/ui/schedules`);
    const rows = page.locator("table.schedules-table tbody tr");
    await page.locator('tr[data-schedule="nightly-report"]').waitFor();
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-schedule"))), [
      "heartbeat",
      "hourly",
      "nightly-report",
    ]);

    const nightly = page.locator('tr[data-schedule="nightly-report"]');
    assert.equal((await nightly.locator('td[data-label="Cron"]').textContent())?.replace(/\s+/g, " ").trim(), "0 3 * * * Europe/Berlin");
    assert.equal((await nightly.locator('td[data-label="Overlap"]').textContent())?.trim(), "skip");
    assert.equal((await nightly.locator('td[data-label="State"]').textContent())?.trim(), "active");
    const times = (await nightly.locator("ul.times li").allTextContents()).map((t) => t.replace(/\s*\(.*\)$/, "").trim());
    const expected = ((created.body as Json).next_fire_times as string[]).slice(0, 3).map(shown);
    assert.deepEqual(times, expected, "the first three of the API's next fire times");
    assert.ok(
      expected.every((t) => /^\d{4}-\d\d-\d\d 0[12]:00:00\.000$/.test(t)),
      "03:00 in Berlin is 01:00 or 02:00 UTC",
    );

    const heartbeat = page.locator('tr[data-schedule="heartbeat"]');
    assert.equal((await heartbeat.locator('td[data-label="State"]').textContent())?.trim(), "paused");
    assert.equal((await heartbeat.locator('td[data-label="Next"]').textContent())?.trim(), "paused");
    assert.equal(await heartbeat.getByRole("link", { name: "report" }).getAttribute("href"), "/ui/executions?task=report");
    assertNoProblems();
  });

  it("pauses and resumes a schedule from its row", async () => {
    await page.goto(`${server.url}/ui/schedules`);
    const row = page.locator('tr[data-schedule="nightly-report"]');
    await row.getByRole("button", { name: "Pause" }).click();
    await row.getByRole("button", { name: "Resume" }).waitFor();
    assert.equal((await row.locator('td[data-label="State"]').textContent())?.trim(), "paused");
    assert.deepEqual([(await schedule("nightly-report")).paused, (await schedule("nightly-report")).next_fire_times], [true, []]);
    await row.getByRole("button", { name: "Resume" }).click();
    await row.getByRole("button", { name: "Pause" }).waitFor();
    await row.locator("ul.times li").first().waitFor();
    assert.equal((await schedule("nightly-report")).paused, false);

    const hourly = page.locator('tr[data-schedule="hourly"]');
    await hourly.getByRole("button", { name: "Resume" }).click();
    await hourly.locator("ul.times li").first().waitFor();
    const first = ((await schedule("hourly")).next_fire_times as string[])[0] as string;
    assert.match(first, /:30:00\.000Z$/, "the top of the hour in Asia/Kolkata (UTC+05:30) is half past in UTC");
    assert.equal((await hourly.locator("ul.times li").first().textContent())?.replace(/\s*\(.*\)$/, "").trim(), shown(first));
    assertNoProblems();
  });

  it("shows the empty page once there are no schedules", async () => {
    for (const id of ["heartbeat", "hourly", "nightly-report"]) {
      assert.equal((await call(`${api}/schedules/${id}`, { method: "DELETE" })).status, 200);
    }
    await page.goto(`${server.url}/ui/schedules`);
    await page.getByText("No schedules.").waitFor();
    assert.match((await page.locator("p.empty").textContent()) ?? "", /defineSchedule.*POST \/api\/v1\/schedules/);
    assertNoProblems();
  });
});
