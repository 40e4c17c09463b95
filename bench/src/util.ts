/** Small helpers shared by the adapters. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import pg from "pg";

const require = createRequire(import.meta.url);

/** Installed version of a package, read from its package.json (exports maps hide `pkg/package.json`). */
export function packageVersion(name: string): string {
  let dir = dirname(require.resolve(name));
  for (let i = 0; i < 6; i++) {
    try {
      const json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (json.name === name && json.version) return json.version;
    } catch {
      // not here; go up
    }
    dir = dirname(dir);
  }
  return "?";
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it is true; throws after `timeoutMs`. Returns the polls made. */
export async function waitUntil(check: () => Promise<boolean>, everyMs: number, timeoutMs: number, what: string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let polls = 0;
  for (;;) {
    polls++;
    if (await check()) return polls;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A promise with its resolve function, for "the last handler has run" signals. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Runs `fn(i)` for i in 0…n-1 with at most `inFlight` calls pending. */
export async function pooled(n: number, inFlight: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
}

/** One short-lived client for a query or two (verification, counts), closed afterwards. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** A random idle gap before each latency sample for systems that poll, so samples do not phase-lock. */
export function jitterGap(maxMs: number): Promise<void> {
  return maxMs > 0 ? sleep(Math.random() * maxMs) : Promise.resolve();
}

export function postgresUrl(target: { kind: string; url?: string }): string {
  if (target.kind !== "postgres" || !target.url) throw new Error("this system needs a PostgreSQL target");
  return target.url;
}

/** Milliseconds `work` took: an enqueue figure times the calls, not the client's set-up and tear-down. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}
