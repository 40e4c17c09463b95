/**
 * The dashboard's Schedules page in a real Chromium against a real `zart-server` (SQLite) that loads a
 * task module declaring schedules in code: the list with cron, time zone, overlap and state, the next
 * fire times the API computes, pause and resume from the page (checked through the API), a schedule
 * created over the API appearing, delete from the page (after a confirmation that says when a code
 * schedule comes back; a kept confirmation deletes nothing, a 404 because someone else deleted it first
 * is shown), and the empty page once every schedule is deleted.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page, Request } from "playwright-core";
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

async function createSchedule(id: string): Promise<void> {
  const created = await call(`${api}/schedules`, { json: { schedule_id: id, task: "report", cron: "0 9 * * 1", data: { format: "csv" } } });
  assert.equal(created.status, 201, created.text);
}

const rowIds = () => page.locator("table.schedules-table tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-schedule")));

/**
 * Stops the page's 5 s refresh (it runs only while the tab is visible), so a row that goes after a delete
 * went because the page reloaded the list itself.
 */
async function stopRefresh(): Promise<void> {
  await page.evaluate(() => {
    const { document } = globalThis as unknown as { document: object };
    Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
  });
}

/** Opens the row's confirmation; returns it and the line under its question. */
async function askToDelete(id: string) {
  const row = page.locator(`tr[data-schedule="${id}"]`);
  await row.getByRole("button", { name: "Delete", exact: true }).click();
  const confirm = row.getByRole("group", { name: `Delete schedule ${id}?` });
  await confirm.waitFor();
  return { row, confirm, text: ((await confirm.locator(".confirm-detail").textContent()) ?? "").replace(/\s+/g, " ").trim() };
}

/** Confirms and returns the status of the DELETE the page sent. */
async function confirmDelete(id: string, confirm: ReturnType<Page["locator"]>): Promise<number> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "DELETE" && r.url().endsWith(`/api/v1/schedules/${id}`)),
    confirm.getByRole("button", { name: "Yes, delete it" }).click(),
  ]);
  return response.status();
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

  it("deletes a schedule after a confirmation: the row goes and the API no longer has it", async () => {
    await createSchedule("weekly-csv");
    await page.goto(`${server.url}/ui/schedules`);
    await stopRefresh();
    const { row, confirm, text } = await askToDelete("weekly-csv");
    assert.equal(text, "This cannot be undone. Executions it already started are kept.");
    assert.doesNotMatch(text, /declared in code/, "an API schedule does not come back");
    assert.equal(await confirmDelete("weekly-csv", confirm), 200);
    await row.waitFor({ state: "detached" });
    assert.equal((await page.locator(".page p.notice.ok[role=status]").textContent())?.trim(), "Schedule weekly-csv deleted.");
    assert.equal((await call(`${api}/schedules/weekly-csv`)).status, 404);
    assert.deepEqual(await rowIds(), ["heartbeat", "hourly", "nightly-report"]);
    assertNoProblems();
  });

  it("deletes nothing when the confirmation is kept, and says a code schedule would come back", async () => {
    const deletes: string[] = [];
    const onRequest = (r: Request) => {
      if (r.method() === "DELETE") deletes.push(r.url());
    };
    page.on("request", onRequest);
    await page.goto(`${server.url}/ui/schedules`);
    const { row, confirm, text } = await askToDelete("hourly");
    assert.equal((await row.locator('td[data-label="Schedule"]').textContent())?.replace(/\s+/g, " ").trim(), "hourly in code");
    assert.match(text, /declared in code \(defineSchedule\): a process that still declares it creates it again when it starts/);
    await confirm.getByRole("button", { name: "Keep it" }).click();
    await confirm.waitFor({ state: "detached" });
    await row.getByRole("button", { name: "Delete", exact: true }).waitFor();
    await page.reload();
    await page.locator('tr[data-schedule="hourly"]').waitFor();
    page.off("request", onRequest);
    assert.deepEqual(deletes, []);
    assert.equal((await call(`${api}/schedules/hourly`)).status, 200);
    assert.equal(await page.locator(".page p.notice").count(), 0, "no message after a kept confirmation");
    assertNoProblems();
  });

  it("shows why a delete failed: gone already (404), and the row goes", async () => {
    await createSchedule("doomed");
    // Someone else deletes it between the page's list and its DELETE, which then reaches the real server.
    await page.route(/\/api\/v1\/schedules\/doomed$/, async (route) => {
      if (route.request().method() === "DELETE") assert.equal((await call(`${api}/schedules/doomed`, { method: "DELETE" })).status, 200);
      await route.fallback();
    });
    try {
      await page.goto(`${server.url}/ui/schedules`);
      await stopRefresh();
      const gone = await askToDelete("doomed");
      assert.equal(await confirmDelete("doomed", gone.confirm), 404);
      const goneAlert = page.getByRole("alert").filter({ hasText: "doomed" });
      assert.equal(
        (await goneAlert.textContent())?.trim(),
        "Could not delete schedule doomed: it no longer exists (someone else may have deleted it). The server said: No schedule found with ID doomed (schedule_not_found)",
      );
      await gone.row.waitFor({ state: "detached" });
      assert.deepEqual(await rowIds(), ["heartbeat", "hourly", "nightly-report"]);
    } finally {
      await page.unrouteAll();
    }
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
