/**
 * Database housekeeping for the Postgres runs: one pre-migrated template per system, a fresh
 * database cloned from it for every run (so no run sees another's rows, dead tuples or bloat), and
 * the commit counter that gives "Postgres transactions per execution".
 */
import pg from "pg";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";

/** Databases this suite owns all start with this prefix; nothing else is ever created or dropped. */
const PREFIX = "zbench_";

export function adminUrl(): string {
  return process.env.BENCH_DATABASE_URL ?? DEFAULT_DATABASE_URL;
}

/** The same server and credentials as `base`, another database. */
export function urlForDatabase(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A probe's own database, created empty (dropped first if a run left it); `drop` removes it again. */
export async function freshProbeDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new pg.Client(adminUrl());
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${ident(name)}`);
  return {
    url: urlForDatabase(adminUrl(), name),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
      await admin.end();
    },
  };
}

function ident(name: string): string {
  if (!name.startsWith(PREFIX) || !/^[a-z0-9_]+$/.test(name)) throw new Error(`refusing to touch database "${name}"`);
  return `"${name}"`;
}

/**
 * WAL written between `start()` and `since()`, in kB, read from the cluster's current WAL position (so any
 * database's writes count; a probe reads it with nothing else running).
 */
export function walMeter(client: pg.Client): { start(): Promise<void>; since(): Promise<number> } {
  let from = "0/0";
  return {
    async start() {
      from = (await client.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]?.lsn ?? "0/0";
    },
    async since() {
      const found = await client.query<{ kb: string }>("SELECT round(pg_wal_lsn_diff(pg_current_wal_lsn(), $1) / 1024) AS kb", [from]);
      return Number(found.rows[0]?.kb ?? 0);
    },
  };
}

export class PgAdmin {
  private constructor(
    private readonly client: pg.Client,
    readonly baseUrl: string,
  ) {}

  static async connect(baseUrl = adminUrl()): Promise<PgAdmin> {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    return new PgAdmin(client, baseUrl);
  }

  urlFor(database: string): string {
    return urlForDatabase(this.baseUrl, database);
  }

  async close(): Promise<void> {
    await this.client.end();
  }

  async serverVersion(): Promise<string> {
    const { rows } = await this.client.query<{ v: string }>("select current_setting('server_version') as v");
    return rows[0]!.v;
  }

  async settings(): Promise<Record<string, string>> {
    const names = ["fsync", "synchronous_commit", "shared_buffers", "max_connections", "wal_level"];
    const { rows } = await this.client.query<{ name: string; setting: string; unit: string | null }>(
      "select name, setting, unit from pg_settings where name = any($1)",
      [names],
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} ${r.unit}` : r.setting]));
  }

  /** Other sessions connected to `database` (a template must have none; counters flush on disconnect). */
  async connections(database: string): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>(
      "select count(*) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
      [database],
    );
    return Number(rows[0]!.n);
  }

  /** Waits until every session of `database` has gone (bounded), so their stats are flushed. */
  async waitForNoConnections(database: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.connections(database)) > 0) {
      if (Date.now() > deadline) throw new Error(`sessions still open on ${database} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async drop(database: string): Promise<void> {
    await this.client.query(`drop database if exists ${ident(database)} with (force)`);
  }

  async create(database: string, template?: string): Promise<void> {
    const tpl = template ? ` template ${ident(template)}` : "";
    // CREATE … TEMPLATE fails while a session lingers on the template (a pool closing late): retry briefly.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.query(`create database ${ident(database)}${tpl}`);
        return;
      } catch (error) {
        const busy = error instanceof Error && /being accessed by other users/.test(error.message);
        if (!busy || attempt >= 40) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Builds the template from scratch: an empty database that `migrate` fills with the system's schema. */
  async buildTemplate(template: string, migrate: (url: string) => Promise<void>): Promise<void> {
    await this.drop(template);
    await this.create(template);
    await migrate(this.urlFor(template));
    await this.waitForNoConnections(template);
  }

  /** A fresh database cloned from the template: every run starts from the same migrated, empty state. */
  async fresh(database: string, template: string): Promise<string> {
    await this.drop(database);
    await this.create(database, template);
    return this.urlFor(database);
  }

  /** Committed transactions of `database` so far (only counters of sessions that flushed or ended). */
  async xactCommit(database: string): Promise<number> {
    await this.client.query("select pg_stat_clear_snapshot()");
    const { rows } = await this.client.query<{ n: string }>("select xact_commit as n from pg_stat_database where datname = $1", [database]);
    return Number(rows[0]?.n ?? Number.NaN);
  }
}
