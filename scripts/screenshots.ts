/**
 * Renders the README's dashboard screenshots into docs/images/: a real `zart-server` on a temporary
 * SQLite file with sample executions, Debian's Chromium (see test/support/browser.ts), the main pages in
 * light and dark at 1440 px and on a 375 px phone: the executions list, an execution waiting for its
 * event, the step timeline of one that failed and was retried, and the start form.
 *
 *   node --import tsx scripts/screenshots.ts      (npm run screenshots)
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../test/support/browser.js";
import { chooseTask, fillJson, seedSample } from "../test/support/dashboard.js";
import { call, startServer } from "../test/support/server-process.js";

const OUT = new URL("../docs/images/", import.meta.url).pathname;

interface Shot {
  name: string;
  path: string;
  /** Brings the page into the state to capture once it has loaded. */
  prepare: (page: Page) => Promise<void>;
}

const VIEWS = [
  { suffix: "light", colorScheme: "light", viewport: { width: 1440, height: 900 } },
  { suffix: "dark", colorScheme: "dark", viewport: { width: 1440, height: 900 } },
  { suffix: "phone", colorScheme: "light", viewport: { width: 375, height: 812 } },
] as const;

async function capture(browser: Browser, base: string, shots: Shot[]): Promise<string[]> {
  const written: string[] = [];
  for (const view of VIEWS) {
    const context = await browser.newContext({ viewport: view.viewport, colorScheme: view.colorScheme, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    for (const shot of shots) {
      await page.goto(`${base}${shot.path}`);
      await shot.prepare(page);
      const file = join(OUT, `${shot.name}-${view.suffix}.png`);
      await page.screenshot({ path: file });
      written.push(file);
    }
    await context.close();
  }
  return written;
}

const server = await startServer();
const browser = await launchBrowser();
try {
  const api = `${server.url}/api/v1`;
  const sample = await seedSample(api, { echoes: 40, waiting: 3 });
  // A step that failed five times, ended its execution, and succeeded after an operator's retry.
  const started = await call(`${api}/executions`, { json: { task: "flaky", data: { failures: 5 } } });
  const retried = (started.body as { execution_id: string }).execution_id;
  await call(`${api}/executions/${retried}/wait?timeout=30`);
  await call(`${api}/executions/${retried}/retry`, { method: "POST" });
  await call(`${api}/executions/${retried}/wait?timeout=30`);
  mkdirSync(OUT, { recursive: true });
  const written = await capture(browser, server.url, [
    {
      name: "executions",
      path: "/ui/executions",
      prepare: async (page) => {
        await page.locator("table.executions-table tbody tr").first().waitFor();
        await page.locator('[data-count="all"] .count-value').filter({ hasText: /\d/ }).waitFor();
      },
    },
    {
      name: "execution",
      path: `/ui/executions/${sample.waiting[0]}`,
      prepare: async (page) => {
        await page.getByRole("button", { name: "Send event" }).click();
        await page.getByRole("form", { name: "Send event" }).waitFor();
      },
    },
    {
      name: "timeline",
      path: `/ui/executions/${retried}`,
      prepare: async (page) => {
        const row = page.locator('.timeline-row[data-step="unreliable"]');
        await row.locator("summary").first().click();
        await row.locator("table.attempts tbody tr").nth(5).waitFor();
      },
    },
    {
      name: "start",
      path: "/ui/start",
      prepare: async (page) => {
        await chooseTask(page, "onboarding");
        await fillJson(page, "Input", '{\n  "user_id": "u123",\n  "email": "user@example.com"\n}');
        await page.locator("h1").click();
      },
    },
  ]);
  for (const file of written) console.log(`wrote ${file}`);
} finally {
  await browser.close();
  await server.stop();
}
