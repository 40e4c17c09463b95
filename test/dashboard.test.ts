/**
 * The web dashboard in a real Chromium against real `zart-server` processes (temporary SQLite files, the
 * bundled example tasks): how the server serves it, then the pages clicked through as an operator would.
 * One browser for the file and one page reused across the tests (the CI machine has two cores). The
 * pages that need the routes of operations.md §1-§2 are tested in dashboard-operations.test.ts.
 *
 * Long because it is one click-through: splitting it would start another browser and two more servers
 * per file, which is most of its running time.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, openPage, type WatchedPage } from "./support/browser.js";
import { chooseTask, fillJson, type Sample, seedSample } from "./support/dashboard.js";
import { apiHelpers, assertError, body, type Json } from "./support/http-helpers.js";
import { call, type ServerProcess, startServer } from "./support/server-process.js";

const TOKEN = "dashboard-test-token";

let server: ServerProcess;
let guarded: ServerProcess;
let browser: Browser;
let watched: WatchedPage;
let page: Page;
let sample: Sample;
let api: string;
const { scheduled, statusOf } = apiHelpers(() => api);

before(async () => {
  [server, guarded, browser] = await Promise.all([startServer(), startServer({ env: { ZART_API_TOKEN: TOKEN } }), launchBrowser()]);
  api = `${server.url}/api/v1`;
  sample = await seedSample(api, { echoes: 50, waiting: 3 });
  watched = await openPage(browser);
  page = watched.page;
  page.setDefaultTimeout(15_000);
});

after(async () => {
  await browser?.close();
  assert.deepEqual(await Promise.all([server?.stop(), guarded?.stop()]), [0, 0]);
});

/** Nothing went wrong in the page (uncaught errors, console errors, CSP violations, failed requests). */
function assertNoProblems(): void {
  assert.deepEqual(watched.problems.splice(0), []);
}

async function stats(): Promise<Record<string, number>> {
  return body(await call(`${api}/stats`)) as Record<string, number>;
}

/** The execution ids in the table, top to bottom. */
async function rowIds(): Promise<string[]> {
  return page.locator("table.executions-table tbody tr").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-id") ?? ""));
}

/** The value at a path of keys in parsed JSON; undefined when a step is missing. */
const at = (value: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, key) => (v as Json | undefined)?.[key], value);

const badge = (status: string) => page.locator(`.page-head [data-status="${status}"]`);

describe("serving the dashboard", () => {
  it("serves the page at / and every page URL, with a strict CSP that allows exactly the import map", async () => {
    const page = await call(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html; charset=utf-8/);
    const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(page.text)?.[1];
    assert.ok(importMap, "index.html has an import map");
    const hash = createHash("sha256").update(importMap).digest("base64");
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.ok(csp.includes(`script-src 'self' 'sha256-${hash}'`), csp);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    for (const path of [
      "/ui",
      "/ui/",
      "/ui/executions",
      `/ui/executions/${sample.echo[0]}`,
      "/ui/start",
      "/ui/tasks",
      "/ui/workers",
      "/ui/schedules",
    ]) {
      const r = await call(`${server.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.equal(r.text, page.text, path);
    }
    // Every script and stylesheet the page names comes from this server.
    for (const url of [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string)) assert.match(url, /^\/ui\//);
  });

  it("serves the app's modules and the vendor modules from node_modules, cached by ETag", async () => {
    const main = await call(`${server.url}/ui/src/main.js`);
    assert.equal(main.status, 200);
    assert.match(main.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.equal(main.headers.get("cache-control"), "no-cache");
    const etag = main.headers.get("etag");
    assert.ok(etag);
    const again = await fetch(`${server.url}/ui/src/main.js`, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), "");
    for (const [path, marker] of [
      ["/ui/vendor/preact.mjs", "createElement"],
      ["/ui/vendor/hooks.mjs", "useState"],
      ["/ui/vendor/htm.mjs", "export"],
      ["/ui/styles.css", "prefers-color-scheme"],
    ] as const) {
      const r = await call(`${server.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.ok(r.text.includes(marker), path);
    }
  });

  it("answers unknown /ui paths 404 and other methods 405, as the API does, and leaves the OpenAPI document alone", async () => {
    assertError(await call(`${server.url}/ui/nope.js`), 404, "not_found");
    assertError(await call(`${server.url}/ui/src/../../package.json`), 404, "not_found");
    assertError(await call(`${server.url}/ui/%2e%2e/package.json`), 404, "not_found");
    assertError(await call(`${server.url}/ui/executions/x/y`), 404, "not_found");
    const post = await call(`${server.url}/`, { method: "POST", json: {} });
    assertError(post, 405, "method_not_allowed");
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    const doc = body(await call(`${api}/openapi.json`));
    assert.deepEqual(
      Object.keys(doc.paths as Json).filter((p) => p === "/" || p.startsWith("/ui")),
      [],
    );
  });

  it("needs no token for the page and its files when the API needs one", async () => {
    for (const path of ["/", "/ui/src/main.js", "/ui/vendor/preact.mjs"])
      assert.equal((await call(`${guarded.url}${path}`)).status, 200, path);
    assertError(await call(`${guarded.url}/api/v1/stats`), 401, "unauthorized");
    assertError(await call(`${guarded.url}/ui/nope`), 404, "not_found");
  });
});

describe("API fields the dashboard reads", () => {
  it("list items carry current_step and waiting_for_event; an execution carries its input as data", async () => {
    const list = body(await call(`${api}/executions?task=onboarding&status=waiting&limit=1`)).executions as Json[];
    assert.equal(list[0]?.current_step, "manager-approval");
    assert.equal(list[0]?.waiting_for_event, "manager-approval");
    const done = body(await call(`${api}/executions?task=echo&status=completed&limit=1`)).executions as Json[];
    assert.equal(done[0]?.current_step, null);
    assert.equal(done[0]?.waiting_for_event, null);
    const execution = await statusOf(sample.echo[0] as string);
    assert.deepEqual(execution.data, { n: 0 });
    const doc = body(await call(`${api}/openapi.json`));
    // Named schemas are components: follow a `$ref` to the schema it names.
    const deref = (schema: unknown): unknown => {
      const ref = (schema as { $ref?: string } | undefined)?.$ref;
      return ref ? at(doc, ...ref.slice(2).split("/")) : schema;
    };
    const schemaOf = (path: string) => deref(at(doc, "paths", path, "get", "responses", "200", "content", "application/json", "schema"));
    const item = at(deref(at(deref(at(schemaOf("/api/v1/executions"), "properties", "executions")), "items")), "properties");
    assert.ok(at(item, "current_step") && at(item, "waiting_for_event"), "list item fields are in the OpenAPI document");
    assert.ok(at(schemaOf("/api/v1/executions/{id}"), "properties", "data"), "data is in the OpenAPI document");
  });
});

describe("executions list", () => {
  it("shows the counts by status and the newest executions first, with the current step", async () => {
    await page.goto(`${server.url}/`);
    const counts = await stats();
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    await page.locator('[data-count="all"] .count-value', { hasText: String(total) }).waitFor();
    for (const [status, n] of Object.entries(counts)) {
      assert.equal(await page.locator(`[data-count="${status}"] .count-value`).textContent(), String(n), status);
    }
    await page.locator("table.executions-table tbody tr").nth(49).waitFor();
    const newest = body(await call(`${api}/executions?limit=50`)).executions as Json[];
    assert.deepEqual(
      await rowIds(),
      newest.map((e) => e.execution_id),
    );
    const waitingRow = page.locator(`tr[data-id="${sample.waiting[0]}"]`);
    assert.match((await waitingRow.textContent()) ?? "", /waiting for\s*manager-approval/);
    assert.equal(await page.getByTestId("pager-info").textContent(), `1–50 of ${total}`);
    assertNoProblems();
  });

  it("filters by status and by task, with the filters in the URL", async () => {
    await page.goto(`${server.url}/ui/executions`);
    await page.getByLabel("Status", { exact: true }).selectOption("failed");
    await page.waitForURL(/status=failed/);
    await page.getByTestId("pager-info").filter({ hasText: "1–2 of 2" }).waitFor();
    assert.deepEqual((await rowIds()).sort(), [...sample.failed].sort());
    assert.equal(await page.locator('[data-count="failed"]').getAttribute("aria-current"), "true");

    await page.getByLabel("Status", { exact: true }).selectOption("");
    await page.getByLabel("Task", { exact: true }).fill("onboarding");
    await page.getByLabel("Task", { exact: true }).press("Enter");
    await page.waitForURL(/task=onboarding/);
    await page
      .getByTestId("pager-info")
      .filter({ hasText: `1–${sample.waiting.length} of ${sample.waiting.length}` })
      .waitFor();
    assert.deepEqual((await rowIds()).sort(), [...sample.waiting].sort());

    // A count card lists its status across every task, as its number counts.
    await page.locator('[data-count="waiting"]').click();
    await page.waitForURL((url) => url.searchParams.get("status") === "waiting" && !url.searchParams.has("task"));
    const waiting = (await stats()).waiting;
    await page
      .getByTestId("pager-info")
      .filter({ hasText: `of ${waiting}` })
      .waitFor();
    assertNoProblems();
  });

  it("pages through with server paging, newest first, never repeating a row", async () => {
    await page.goto(`${server.url}/ui/executions?limit=20`);
    const total = body(await call(`${api}/executions?limit=1`)).total as number;
    await page
      .getByTestId("pager-info")
      .filter({ hasText: `1–20 of ${total}` })
      .waitFor();
    const first = await rowIds();
    await page.getByRole("link", { name: "Next" }).click();
    await page
      .getByTestId("pager-info")
      .filter({ hasText: `21–40 of ${total}` })
      .waitFor();
    await page.waitForURL(/page=2/);
    const second = await rowIds();
    const expected = body(await call(`${api}/executions?limit=20&offset=20`)).executions as Json[];
    assert.deepEqual(
      second,
      expected.map((e) => e.execution_id),
    );
    assert.equal(first.filter((id) => second.includes(id)).length, 0);
    await page.getByRole("link", { name: "Previous" }).click();
    await page
      .getByTestId("pager-info")
      .filter({ hasText: `1–20 of ${total}` })
      .waitFor();
    assert.deepEqual(await rowIds(), first);
    assert.equal(await page.getByRole("link", { name: "Previous" }).getAttribute("aria-disabled"), "true");

    // A page past the end holds no rows and says so; Previous leads to the last page.
    const pages = Math.ceil(total / 20);
    await page.goto(`${server.url}/ui/executions?limit=20&page=${pages + 50}`);
    await page
      .getByTestId("pager-info")
      .filter({ hasText: `0–0 of ${total}` })
      .waitFor();
    await page.getByRole("link", { name: "Previous" }).click();
    await page.waitForURL(new RegExp(`page=${pages}(&|$)`));
    await page
      .getByTestId("pager-info")
      .filter({ hasText: `${(pages - 1) * 20 + 1}–${total} of ${total}` })
      .waitFor();
    assertNoProblems();
  });

  it("refreshes by itself: a new execution appears without a reload", async () => {
    await page.goto(`${server.url}/ui/executions?task=echo`);
    await page.locator("table.executions-table tbody tr").first().waitFor();
    const id = await scheduled("echo", { live: true });
    await page.locator(`tr[data-id="${id}"]`).waitFor();
    assert.equal((await rowIds())[0], id);
    assertNoProblems();
  });
});

describe("execution page", () => {
  it("opens from the list, delivers the awaited event from the form, and shows the execution completed", async () => {
    const id = sample.waiting[0] as string;
    await page.goto(`${server.url}/ui/executions?task=onboarding`);
    await page.getByRole("link", { name: id }).click();
    await page.waitForURL(new RegExp(`/ui/executions/${id}$`));
    await badge("waiting").waitFor();
    assert.match((await page.locator(".facts-grid").textContent()) ?? "", /Waiting for event\s*manager-approval/);
    assert.match((await page.getByLabel("Input", { exact: true }).textContent()) ?? "", /"user_id": "u1"/);

    await page.getByRole("button", { name: "Send event" }).click();
    const form = page.getByRole("form", { name: "Send event" });
    // The form is rebuilt once the wait's schema arrives with the step records; typing before that is lost.
    await form.getByText("Checked against the event's schema").waitFor();
    await fillJson(page, "Payload", '{"approved": true,');
    await form.getByText(/Not valid JSON/).waitFor();
    await form.getByRole("button", { name: "Deliver event" }).click();
    assert.equal((await statusOf(id)).status, "waiting", "invalid JSON is not sent");

    // The schema's verdict, from the page's own check or from the server's 422.
    await fillJson(page, "Payload", '{"approved": true}');
    await form.getByRole("button", { name: "Deliver event" }).click();
    await form
      .getByText(/reviewer is required/)
      .first()
      .waitFor();
    assert.equal((await statusOf(id)).status, "waiting");

    await fillJson(page, "Payload", '{"approved": true, "reviewer": "jane@example.com"}');
    await form.getByRole("button", { name: "Deliver event" }).click();
    await page.getByText('Event "manager-approval" delivered.').waitFor();
    await badge("completed").waitFor();
    await page.getByLabel("Output", { exact: true }).filter({ hasText: '"customer_id": "cus_u1"' }).waitFor();
    assert.equal((await statusOf(id)).status, "completed");
    assert.equal(await page.getByRole("button", { name: "Send event" }).count(), 0);
    assertNoProblems();
  });

  it("cancels a waiting execution after asking once more", async () => {
    const id = sample.waiting[1] as string;
    await page.goto(`${server.url}/ui/executions/${id}`);
    await badge("waiting").waitFor();
    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    await page.getByRole("button", { name: "Keep it" }).click();
    assert.equal((await statusOf(id)).status, "waiting");
    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    await page.getByRole("button", { name: "Yes, cancel it" }).click();
    await badge("cancelled").waitFor();
    await page.getByText("Cancelled.").waitFor();
    assert.equal((await statusOf(id)).status, "cancelled");
    assert.equal(await page.getByRole("button", { name: "Cancel", exact: true }).count(), 0);
    assertNoProblems();
  });

  it("shows a failed execution's error, and says so for an unknown id", async () => {
    await page.goto(`${server.url}/ui/executions/${sample.failed[0]}`);
    await badge("failed").waitFor();
    const error = page.locator(".error-panel");
    await error.waitFor();
    assert.match((await error.textContent()) ?? "", /unreliable failed on attempt 5/);
    await page.goto(`${server.url}/ui/executions/exec-0000000000000000`);
    await page.getByRole("heading", { name: "Execution not found" }).waitFor();
    assertNoProblems();
  });

  it("says plainly what an older server cannot do (routes it lacks answer not_found)", async () => {
    const lacking = {
      status: 404,
      contentType: "application/json",
      body: JSON.stringify({ error: { code: "not_found", message: "No such route" } }),
    };
    const missing = /\/api\/v1\/(tasks|workers|schedules|executions\/[^/]+\/(steps|retry))$/;
    await page.route(missing, (route) => route.fulfill(lacking));
    try {
      await page.goto(`${server.url}/ui/executions/${sample.failed[1]}`);
      await page.getByText("The step timeline is not available on this server").waitFor();
      await page.getByRole("button", { name: "Retry" }).click();
      await page.getByText("Retry is not available on this server.").waitFor();
      for (const [path, what] of [
        ["/ui/tasks", "The task list"],
        ["/ui/workers", "The worker list"],
        ["/ui/schedules", "Schedules"],
      ]) {
        await page.goto(`${server.url}${path}`);
        await page.getByText(`${what} is not available on this server`).waitFor();
      }
      await page.goto(`${server.url}/ui/start`);
      await page.getByText("This server cannot list its tasks").waitFor();
    } finally {
      await page.unroute(missing);
    }
    assertNoProblems();
  });
});

describe("start page", () => {
  it("starts an execution from the form and lands on it", async () => {
    await page.goto(`${server.url}/ui/executions`);
    await page.getByRole("link", { name: "Start", exact: true }).click();
    await page.waitForURL(/\/ui\/start$/);
    await chooseTask(page, "echo");
    await fillJson(page, "Input", '{"hello": "from the dashboard"}');
    await page.getByLabel("Idempotency key (optional)").fill("dashboard-start-1");
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page.waitForURL(/\/ui\/executions\/exec-[a-z0-9]+$/);
    const id = page.url().split("/").pop() as string;
    await badge("completed").waitFor();
    await page.getByLabel("Output", { exact: true }).filter({ hasText: '"hello": "from the dashboard"' }).waitFor();
    const execution = await statusOf(id);
    assert.equal(execution.task, "echo");
    assert.equal(execution.idempotency_key, "dashboard-start-1");
    assert.deepEqual(execution.output, { echo: { hello: "from the dashboard" } });
    assertNoProblems();
  });

  it("shows the server's validation message and starts nothing", async () => {
    const before = (await stats()).completed;
    await page.goto(`${server.url}/ui/start`);
    await chooseTask(page, "sleep");
    await fillJson(page, "Input", '{"seconds": "soon"}');
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: /seconds/ })
      .first()
      .waitFor();
    assert.match(page.url(), /\/ui\/start$/);
    assert.equal((await stats()).completed, before);
    assertNoProblems();
  });
});

describe("layout", () => {
  /** The page is no wider than the window (nothing to scroll sideways). */
  const overflow = () => page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");

  it("fits a 375 px phone screen and a 1440 px window", async () => {
    for (const width of [375, 1440]) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto(`${server.url}/ui/executions`);
      await page.locator("table.executions-table tbody tr").first().waitFor();
      assert.ok((await overflow()) <= 0, `executions list at ${width} px overflows by ${await overflow()} px`);
      await page.goto(`${server.url}/ui/executions/${sample.failed[0]}`);
      await badge("failed").waitFor();
      assert.ok((await overflow()) <= 0, `execution page at ${width} px overflows by ${await overflow()} px`);
      await page.goto(`${server.url}/ui/start`);
      await page.getByRole("button", { name: "Start", exact: true }).waitFor();
      assert.ok((await overflow()) <= 0, `start page at ${width} px overflows by ${await overflow()} px`);
    }
    assertNoProblems();
  });

  it("follows the system's dark scheme, and the toggle overrides it", async () => {
    const background = () => page.evaluate<string>("getComputedStyle(document.body).backgroundColor");
    const theme = () => page.evaluate<string | undefined>("document.documentElement.dataset.theme");
    /** Relative luminance of an rgb() colour, 0 (black) to 1 (white). */
    const luminance = (rgb: string) => {
      const [r, g, b] = (rgb.match(/\d+/g) ?? []).map(Number) as [number, number, number];
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    };
    await page.goto(`${server.url}/ui/executions`);
    await page.emulateMedia({ colorScheme: "light" });
    assert.ok(luminance(await background()) > 0.8);
    await page.emulateMedia({ colorScheme: "dark" });
    assert.ok(luminance(await background()) < 0.2);
    // system → light → dark → system
    const toggle = page.getByRole("button", { name: /^Theme:/ });
    await toggle.click();
    assert.equal(await theme(), "light");
    assert.ok(luminance(await background()) > 0.8, "light theme while the system is dark");
    await toggle.click();
    await page.emulateMedia({ colorScheme: "light" });
    assert.ok(luminance(await background()) < 0.2, "dark theme while the system is light");
    await page.reload();
    assert.equal(await theme(), "dark", "the choice is kept");
    await page.getByRole("button", { name: /^Theme:/ }).click();
    assert.equal(await theme(), undefined);
    assert.ok(luminance(await background()) > 0.8);
    assertNoProblems();
  });
});

describe("token prompt", () => {
  it("asks for the token once, rejects a wrong one, keeps the right one for the tab", async () => {
    const guardedApi = `${guarded.url}/api/v1`;
    const headers = { authorization: `Bearer ${TOKEN}` };
    const created = await call(`${guardedApi}/executions`, { json: { task: "echo", data: {} }, headers });
    assert.equal(created.status, 201);
    const done = await call(`${guardedApi}/executions/${body(created).execution_id}/wait?timeout=30`, { headers });
    assert.equal(body(done).status, "completed");
    const other = await openPage(browser);
    try {
      const p = other.page;
      p.setDefaultTimeout(15_000);
      await p.goto(`${guarded.url}/`);
      const dialog = p.getByRole("dialog", { name: "API token required" });
      await dialog.waitFor();
      // A token no header can carry is refused in the dialog (fetch would throw on it, and never ask again).
      await dialog.getByLabel("Token").fill("tökén€");
      await dialog.getByRole("button", { name: "Use token" }).click();
      await dialog.getByText("A token is printable ASCII without spaces").waitFor();
      assert.equal(await p.evaluate<string | null>('sessionStorage.getItem("zart.token")'), null);
      await dialog.getByLabel("Token").fill("not-the-token");
      await dialog.getByRole("button", { name: "Use token" }).click();
      await dialog.getByText("The server rejected that token").waitFor();
      await dialog.getByLabel("Token").fill(TOKEN);
      await dialog.getByRole("button", { name: "Use token" }).click();
      await dialog.waitFor({ state: "hidden" });
      await p.locator('[data-count="all"] .count-value', { hasText: "1" }).waitFor();
      await p.locator("table.executions-table tbody tr").first().waitFor();
      assert.equal(await p.evaluate<string | null>('sessionStorage.getItem("zart.token")'), TOKEN);
      assert.equal(await p.evaluate<string | null>('localStorage.getItem("zart.token")'), null, "never kept beyond the tab");

      // Kept for the tab: other pages and reloads do not ask again.
      await p.reload();
      await p.locator("table.executions-table tbody tr").first().waitFor();
      assert.equal(await dialog.count(), 0);

      // Forgetting it asks again (the page reloads its data without it).
      await p.getByRole("button", { name: "Forget token" }).click();
      await dialog.waitFor();
      assert.equal(await p.evaluate<string | null>('sessionStorage.getItem("zart.token")'), null);
      assert.deepEqual(other.problems, []);
    } finally {
      await other.context.close();
    }
  });
});
