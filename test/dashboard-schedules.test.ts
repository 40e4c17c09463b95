/**
 * The dashboard's schedules page against the schedules API of operations.md §5 (list, next fire times,
 * pause and resume). Real Chromium, a real `zart-server` process on a temporary SQLite file.
 *
 * scripts/test.js leaves this file out of `npm test` until the schedules routes exist on the server (see
 * NOT_YET there); run it alone with `node scripts/test.js test/dashboard-schedules.test.ts`.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, openPage, type WatchedPage } from "./support/browser.js";
import { body, type Json } from "./support/http-helpers.js";
import { call, type ServerProcess, startServer } from "./support/server-process.js";

let server: ServerProcess;
let browser: Browser;
let watched: WatchedPage;
let page: Page;
let api: string;

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  api = `${server.url}/api/v1`;
  watched = await openPage(browser);
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

describe("schedules page", () => {
  it("lists schedules with their next fire times, and pauses and resumes one", async () => {
    const created = await call(`${api}/schedules`, {
      json: { schedule_id: "nightly-report", task: "echo", cron: "0 3 * * *", timezone: "Europe/Berlin", data: { report: true } },
    });
    assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.body));
    await page.goto(`${server.url}/ui/schedules`);
    const schedule = page.locator('tr[data-schedule="nightly-report"]');
    await schedule.waitFor();
    assert.match((await schedule.textContent()) ?? "", /0 3 \* \* \*\s*Europe\/Berlin/);
    assert.ok((await schedule.locator("ul.times li").count()) >= 1, "shows the next fire times");
    await schedule.getByRole("button", { name: "Pause" }).click();
    await schedule.getByText("paused").first().waitFor();
    assert.equal((body(await call(`${api}/schedules/nightly-report`)) as Json).paused, true);
    await schedule.getByRole("button", { name: "Resume" }).click();
    await schedule.getByText("active").waitFor();
    assert.equal((body(await call(`${api}/schedules/nightly-report`)) as Json).paused, false);
    assertNoProblems();
  });
});
