/**
 * A real Chromium for the dashboard tests and the screenshot script: Debian's `chromium` package driven by
 * playwright-core (which never downloads a browser). A missing browser is an error, never a skip: the
 * dashboard would otherwise go untested without anyone noticing. `.ci/run` installs the package.
 *
 * Every page records what went wrong in it (uncaught errors, console errors, failed requests, CSP
 * violations), so a test can assert that a click-through left none behind.
 */
import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * The flags of the environment notes. `--headless` comes from `headless: true`, and Playwright gives each
 * launch a fresh temporary profile itself (it refuses a `--user-data-dir` among the args).
 */
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Install Debian's package (apt-get install -y chromium; .ci/run does it) or set CHROMIUM_PATH.`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Everything that went wrong in the page so far. */
  problems: string[];
}

/** A new context and page whose errors are collected into `problems`. */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, ...options });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // The browser logs every API answer of 400-499 (a 401 before the token, a 422 for bad input, a route
    // an older server lacks) as a failed resource; the tests check what the page shows for them instead.
    if (message.type() !== "error") return;
    const expected =
      /Failed to load resource: the server responded with a status of 4\d\d/.test(message.text()) &&
      message.location().url.includes("/api/v1/");
    if (!expected) problems.push(`console error: ${message.text()} (${message.location().url})`);
  });
  page.on("requestfailed", (request) => {
    // Aborted fetches are the page cancelling a load it no longer needs (a newer one replaced it).
    if (request.failure()?.errorText !== "net::ERR_ABORTED")
      problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  return { page, context, problems };
}
