/**
 * What the load scripts read from a running server: its process figures from `/metrics` (prom-client's
 * default series under the `zart_` prefix), RSS straight from /proc as a cross-check, and PostgreSQL's
 * connection count from pg_stat_activity.
 */
import { readFileSync } from "node:fs";
import pg from "pg";

export interface ProcessFigures {
  rssBytes: number;
  heapUsedBytes: number;
  /** The V8 heap's reserved size, all spaces. */
  heapTotalBytes: number;
  /** Of which the young generation (V8's new space): it grows under allocation and stays grown. */
  youngGenerationBytes: number;
  activeHandles: number;
  openLongPolls: number;
  /** New executions the server holds until their insert is stored (`zart_store_pending_inserts`). */
  pendingInserts: number;
}

/** The value of an unlabelled series in Prometheus text (NaN when absent). */
export function series(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, "m").exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

/** The value of the line of a series with exactly these labels, e.g. `space="new"` (NaN when absent). */
export function labelled(text: string, name: string, labels: string): number {
  const match = new RegExp(`^${name}\\{${labels}\\}\\s+(\\S+)`, "m").exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

/** Sums every labelled line of a series (e.g. heap used over all spaces is one line, handles one per type). */
export function seriesSum(text: string, name: string): number {
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, "gm");
  let total = 0;
  let found = false;
  for (const match of text.matchAll(re)) {
    total += Number(match[1]);
    found = true;
  }
  return found ? total : Number.NaN;
}

export async function readProcessFigures(baseUrl: string, headers: Record<string, string> = {}): Promise<ProcessFigures> {
  const response = await fetch(`${baseUrl}/metrics`, { headers });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  return {
    rssBytes: series(text, "zart_process_resident_memory_bytes"),
    heapUsedBytes: series(text, "zart_nodejs_heap_size_used_bytes"),
    heapTotalBytes: series(text, "zart_nodejs_heap_size_total_bytes"),
    youngGenerationBytes: labelled(text, "zart_nodejs_heap_space_size_total_bytes", 'space="new"'),
    activeHandles: series(text, "zart_nodejs_active_handles_total"),
    openLongPolls: series(text, "zart_http_open_long_polls"),
    pendingInserts: series(text, "zart_store_pending_inserts"),
  };
}

/** A process's resident set from /proc (Linux), in bytes. */
export function procRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) * 1024;
}

/** Connections to the URL's database, from pg_stat_activity (this query's own connection excluded). */
export async function postgresConnections(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      "select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
    );
    return Number(rows[0]?.n ?? Number.NaN);
  } finally {
    await client.end();
  }
}
