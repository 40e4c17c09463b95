/**
 * Shared by the dashboard's browser tests and scripts/screenshots.ts: sample executions on a real server,
 * and the few page interactions that must work whichever way the page offers them (a task select when the
 * server lists its tasks, a text field otherwise; a form when a schema is known, JSON always).
 */
import type { Page } from "playwright-core";
import { apiHelpers, body } from "./http-helpers.js";
import { call } from "./server-process.js";

export interface Sample {
  echo: string[];
  failed: string[];
  /** Onboarding executions waiting for `manager-approval`. */
  waiting: string[];
  sleeping: string;
}

/** Runs `work` over `items` with at most `limit` at once. */
async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += limit) results.push(...(await Promise.all(items.slice(i, i + limit).map(work))));
  return results;
}

/**
 * `echoes` echo executions (completed), two flaky ones that fail, `waiting` onboarding executions at their
 * event wait and one long sleep; resolves once each has reached that status.
 */
export async function seedSample(api: string, options: { echoes: number; waiting: number }): Promise<Sample> {
  const { scheduled, until } = apiHelpers(() => api);
  const settle = async (id: string) => {
    const r = await call(`${api}/executions/${id}/wait?timeout=30`);
    if (r.status !== 200) throw new Error(`${id} did not end: ${JSON.stringify(r.body)}`);
    return body(r).status as string;
  };
  const echo = await inBatches(
    Array.from({ length: options.echoes }, (_, i) => i),
    20,
    (i) => scheduled("echo", { n: i }),
  );
  const failed = await Promise.all([0, 1].map(() => scheduled("flaky", { failures: 9 })));
  const waiting = await inBatches(
    Array.from({ length: options.waiting }, (_, i) => i),
    10,
    (i) => scheduled("onboarding", { user_id: `u${i + 1}`, email: `user${i + 1}@example.com` }),
  );
  const sleeping = await scheduled("sleep", { seconds: 86_400 });
  await inBatches([...echo, ...failed], 20, settle);
  await Promise.all([...waiting, sleeping].map((id) => until(id, "waiting")));
  return { echo, failed, waiting, sleeping };
}

/** Picks the task on the Start page, from the select or by typing its name. */
export async function chooseTask(page: Page, name: string): Promise<void> {
  // The field is a disabled placeholder until the page knows whether the server lists its tasks.
  await page.locator("#start-task:enabled").waitFor();
  const field = page.getByLabel("Task", { exact: true });
  if (await field.evaluate((element) => element.tagName === "SELECT")) await field.selectOption(name);
  else await field.fill(name);
}

/** Types `text` into a payload editor's JSON field (`label`: "Input", "Payload"), switching to JSON first if a form shows. */
export async function fillJson(page: Page, label: string, text: string): Promise<void> {
  const editor = page.getByRole("group", { name: `${label} editor` });
  if ((await editor.count()) > 0) await editor.getByRole("button", { name: "JSON", exact: true }).click();
  await page.getByLabel(`${label} (JSON)`).fill(text);
}
