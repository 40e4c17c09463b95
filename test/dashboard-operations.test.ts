/**
 * The dashboard's pages and actions that need the routes of operations.md §1-§2: the step timeline,
 * retry, rerun from a step, the start form generated from a task's input schema, and the tasks and
 * workers pages (the schedules page is tested in dashboard-schedules.test.ts). Real Chromium, a real
 * `zart-server` process on a temporary SQLite file with the bundled example tasks; one browser and one
 * page for the file.
 *
 * scripts/test.js leaves this file out of `npm test` until those routes exist on the server (see NOT_YET
 * there); run it alone with `node scripts/test.js test/dashboard-operations.test.ts`.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, openPage, type WatchedPage } from "./support/browser.js";
import { chooseTask } from "./support/dashboard.js";
import { apiHelpers, body } from "./support/http-helpers.js";
import { call, type ServerProcess, startServer } from "./support/server-process.js";

let server: ServerProcess;
let browser: Browser;
let watched: WatchedPage;
let page: Page;
let api: string;
const { scheduled, statusOf, until, onboardingAtWait } = apiHelpers(() => api);

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

const badge = (status: string) => page.locator(`.page-head [data-status="${status}"]`);
const row = (name: string) => page.locator(`.timeline-row[data-step="${name}"]`);

/** Waits for the execution to end and returns its status. */
async function settled(id: string): Promise<string> {
  const r = await call(`${api}/executions/${id}/wait?timeout=30`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return body(r).status as string;
}

async function approve(id: string, reviewer = "jane@example.com"): Promise<void> {
  const r = await call(`${api}/events/${id}/manager-approval`, { json: { approved: true, reviewer } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(await settled(id), "completed");
}

/** Left and width of each bar in the timeline, in percent of the track, top to bottom. */
async function bars(): Promise<Array<{ step: string; left: number; right: number }>> {
  return page.locator(".timeline-row").evaluateAll((rows) =>
    rows.map((r) => {
      const track = r.querySelector(".track")?.getBoundingClientRect();
      const bar = r.querySelector(".bar")?.getBoundingClientRect();
      if (!track || !bar) return { step: r.getAttribute("data-step") ?? "", left: -1, right: -1 };
      return {
        step: r.getAttribute("data-step") ?? "",
        left: ((bar.left - track.left) / track.width) * 100,
        right: ((bar.right - track.left) / track.width) * 100,
      };
    }),
  );
}

describe("step timeline", () => {
  it("shows every step and the event wait in order, drawn to scale, with the event's payload", async () => {
    const id = await onboardingAtWait("timeline-1");
    await approve(id);
    await page.goto(`${server.url}/ui/executions/${id}`);
    await badge("completed").waitFor();
    await row("manager-approval").waitFor();
    const drawn = await bars();
    assert.deepEqual(
      drawn.map((b) => b.step),
      ["create-account", "send-welcome-email", "provision-resources", "manager-approval"],
    );
    for (const b of drawn) {
      assert.ok(b.left >= -0.5 && b.right <= 100.5 && b.right >= b.left, JSON.stringify(b));
    }
    // In time order: each starts no earlier than the one before; the wait runs to the end.
    for (let i = 1; i < drawn.length; i++) assert.ok(drawn[i]!.left >= drawn[i - 1]!.left - 0.5, JSON.stringify(drawn));
    assert.ok(drawn[3]!.right > 95, "the event wait lasts until the execution ends");
    assert.match((await row("manager-approval").getAttribute("class")) ?? "", /kind-event/);
    await row("manager-approval").locator("summary").first().click();
    await row("manager-approval").getByLabel("Payload of manager-approval").filter({ hasText: '"reviewer": "jane@example.com"' }).waitFor();
    assertNoProblems();
  });

  it("shows a sleep, and a step's attempts as segments with their errors and stacks", async () => {
    const sleeper = await scheduled("sleep", { seconds: 0.2 });
    const flaky = await scheduled("flaky", { failures: 2 });
    assert.equal(await settled(sleeper), "completed");
    assert.equal(await settled(flaky), "completed");

    await page.goto(`${server.url}/ui/executions/${sleeper}`);
    await row("nap").waitFor();
    assert.match((await row("nap").getAttribute("class")) ?? "", /kind-sleep/);

    await page.goto(`${server.url}/ui/executions/${flaky}`);
    const unreliable = row("unreliable");
    await unreliable.waitFor();
    assert.match((await unreliable.locator(".step-meta").textContent()) ?? "", /3 attempts · 2 failed/);
    assert.equal(await unreliable.locator(".segment").count(), 3);
    assert.equal(await unreliable.locator(".segment.failed").count(), 2);
    await unreliable.locator("summary").first().click();
    const attempts = unreliable.locator("table.attempts tbody tr");
    assert.equal(await attempts.count(), 3);
    assert.match((await attempts.nth(0).textContent()) ?? "", /unreliable failed on attempt 1 of 3/);
    assert.match((await attempts.nth(2).textContent()) ?? "", /ok/);
    await attempts.nth(0).getByText("Stack trace").click();
    assert.match((await attempts.nth(0).locator(".stack pre").textContent()) ?? "", /\bat\b/);
    assertNoProblems();
  });
});

describe("recovering executions", () => {
  it("retries a failed execution in place: same id, next attempt, completed", async () => {
    // Five failing step attempts exhaust the step's retries; the retried execution's sixth succeeds.
    const id = await scheduled("flaky", { failures: 5 });
    assert.equal(await settled(id), "failed");
    await page.goto(`${server.url}/ui/executions/${id}`);
    await badge("failed").waitFor();
    await page.getByRole("button", { name: "Retry" }).click();
    await page.getByText("Retrying").waitFor();
    await badge("completed").waitFor();
    assert.match(page.url(), new RegExp(`/ui/executions/${id}$`));
    const execution = await statusOf(id);
    assert.equal(execution.status, "completed");
    assert.equal(execution.attempt, 2);
    assert.match((await page.locator(".facts-grid").textContent()) ?? "", /Attempt\s*2/);
    assertNoProblems();
  });

  it("reruns from a chosen step: a new execution that replays up to it and links back", async () => {
    const old = await onboardingAtWait("rerun-1");
    await approve(old);
    await page.goto(`${server.url}/ui/executions/${old}`);
    await row("provision-resources").waitFor();
    await page.getByRole("button", { name: "Rerun…" }).click();
    const form = page.getByRole("form", { name: "Rerun" });
    await form.getByLabel("Start from").selectOption("provision-resources");
    await form.getByRole("button", { name: "Start rerun" }).click();
    await page.waitForURL((url) => /\/ui\/executions\/exec-[a-z0-9]+$/.test(url.pathname) && !url.pathname.endsWith(old));
    const id = page.url().split("/").pop() as string;
    await badge("waiting").waitFor();
    assert.equal((await until(id, "waiting")).rerun_of, old);
    await page.locator(".facts-grid").getByRole("link", { name: old }).waitFor();
    // Copies of what came before the chosen step, marked as such; the chosen step ran for real.
    await row("send-welcome-email").waitFor();
    assert.match((await row("create-account").locator(".step-meta").textContent()) ?? "", /copied/);
    assert.match((await row("send-welcome-email").locator(".step-meta").textContent()) ?? "", /copied/);
    assert.doesNotMatch((await row("provision-resources").locator(".step-meta").textContent()) ?? "", /copied/);
    assertNoProblems();
  });

  it("reruns from the beginning with different input", async () => {
    const old = await scheduled("echo", { n: 1 });
    assert.equal(await settled(old), "completed");
    await page.goto(`${server.url}/ui/executions/${old}`);
    await badge("completed").waitFor();
    await page.getByRole("button", { name: "Rerun…" }).click();
    const form = page.getByRole("form", { name: "Rerun" });
    await form.getByLabel("Run with different input").check();
    await form.getByLabel("Input (JSON)").fill('{"n": 2}');
    await form.getByRole("button", { name: "Start rerun" }).click();
    await page.waitForURL((url) => /\/ui\/executions\/exec-[a-z0-9]+$/.test(url.pathname) && !url.pathname.endsWith(old));
    const id = page.url().split("/").pop() as string;
    assert.equal(await settled(id), "completed");
    const rerun = await statusOf(id);
    assert.equal(rerun.rerun_of, old);
    assert.deepEqual(rerun.output, { echo: { n: 2 } });
    await badge("completed").waitFor();
    assertNoProblems();
  });
});

describe("start form from the input schema", () => {
  it("generates fields from the task's schema, checks them before sending, and starts the execution", async () => {
    const before = body(await call(`${api}/executions?task=onboarding&limit=1`)).total as number;
    await page.goto(`${server.url}/ui/start`);
    await chooseTask(page, "onboarding");
    const editor = page.getByRole("group", { name: "Input", exact: true });
    await editor.getByLabel("user_id").fill("form-user");
    await editor.getByLabel("email").fill("ab");
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page.getByText("data.email must have at least 3 characters").waitFor();
    assert.equal(body(await call(`${api}/executions?task=onboarding&limit=1`)).total, before, "nothing was sent");
    await editor.getByLabel("email").fill("form@example.com");
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page.waitForURL(/\/ui\/executions\/exec-[a-z0-9]+$/);
    const id = page.url().split("/").pop() as string;
    await badge("waiting").waitFor();
    assert.deepEqual((await statusOf(id)).data, { user_id: "form-user", email: "form@example.com" });

    // Numbers and integers become number fields.
    await page.goto(`${server.url}/ui/start`);
    await chooseTask(page, "flaky");
    assert.equal(await page.getByRole("group", { name: "Input", exact: true }).getByLabel("failures").getAttribute("type"), "number");
    assertNoProblems();
  });
});

describe("tasks and workers pages", () => {
  it("lists the tasks with their workers, counts and schemas", async () => {
    await onboardingAtWait("tasks-page");
    await page.goto(`${server.url}/ui/tasks`);
    for (const name of ["onboarding", "echo", "sleep", "flaky"]) await page.locator(`tr[data-task="${name}"]`).waitFor();
    const onboarding = page.locator('tr[data-task="onboarding"]');
    assert.equal((await onboarding.locator('td[data-label="Workers"]').textContent())?.trim(), "1");
    assert.equal(await page.locator('tr[data-task="echo"] td[data-label="Input schema"]').textContent(), "none");
    await onboarding.locator("summary", { hasText: "schema" }).click();
    await onboarding.getByLabel("Input schema of onboarding").filter({ hasText: '"user_id"' }).waitFor();
    await onboarding.locator(".mini-count.status-waiting").click();
    await page.waitForURL((url) => url.searchParams.get("task") === "onboarding" && url.searchParams.get("status") === "waiting");
    await page.locator("table.executions-table tbody tr").first().waitFor();
    assertNoProblems();
  });

  it("lists the live workers with their tasks and load", async () => {
    await page.goto(`${server.url}/ui/workers`);
    const worker = page.locator("table.workers-table tbody tr");
    await worker.first().waitFor();
    assert.equal(await worker.count(), 1);
    assert.equal((await worker.locator('td[data-label="PID"]').textContent())?.trim(), String(server.child.pid));
    const tasks = (await worker.locator('td[data-label="Tasks"]').textContent()) ?? "";
    for (const name of ["onboarding", "echo", "sleep", "flaky"]) assert.ok(tasks.includes(name), tasks);
    assertNoProblems();
  });
});
