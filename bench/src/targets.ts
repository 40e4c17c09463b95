/**
 * Where each run's data lives: a fresh Postgres database cloned from the system's pre-migrated
 * template, or a fresh copy of a pre-migrated SQLite file. Templates are rebuilt once per bench
 * invocation, so a schema change in the tree never meets a stale template.
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInChild } from "./child.js";
import type { PgAdmin } from "./pg-admin.js";
import type { BenchSystem, Target } from "./systems/types.js";

const SQLITE_DIR = join(tmpdir(), `zbench-${process.pid}`);

/** `BENCH_DB_TAG=x`: databases named zbench_x_<system>, so two suites can share one server. */
function tag(): string {
  const value = process.env.BENCH_DB_TAG ?? "";
  if (!/^[a-z0-9]{0,16}$/.test(value)) throw new Error("BENCH_DB_TAG must be at most 16 lower-case letters or digits");
  return value === "" ? "" : `${value}_`;
}

function dbName(system: BenchSystem): string {
  return `zbench_${tag()}${system.id.replace(/-/g, "_")}`;
}

function templateName(system: BenchSystem): string {
  return `${dbName(system)}_tpl`;
}

export class Targets {
  private serial = 0;
  /** SQLite files of earlier runs, deleted when the next run starts so long runs do not fill /tmp. */
  private sqliteFiles: string[] = [];

  constructor(private readonly admin: PgAdmin | null) {}

  /** Builds the template for one system: migrates an empty database (or file) in a child process. */
  async buildTemplate(system: BenchSystem): Promise<void> {
    if (system.storage === "sqlite") {
      mkdirSync(SQLITE_DIR, { recursive: true });
      const path = join(SQLITE_DIR, `${system.id}-template.db`);
      rmSync(path, { force: true });
      await runInChild({ op: "migrate", system: system.id, target: { kind: "sqlite", path } }, 120_000);
      return;
    }
    const admin = this.requireAdmin();
    await admin.buildTemplate(templateName(system), (url) =>
      runInChild({ op: "migrate", system: system.id, target: { kind: "postgres", url, database: templateName(system) } }, 120_000).then(
        () => undefined,
      ),
    );
  }

  /** A fresh, migrated, empty target for one run. */
  async fresh(system: BenchSystem): Promise<Target> {
    if (system.storage === "sqlite") {
      this.removeOldSqliteFiles();
      const path = join(SQLITE_DIR, `${system.id}-${++this.serial}.db`);
      copyFileSync(join(SQLITE_DIR, `${system.id}-template.db`), path);
      this.sqliteFiles.push(path);
      return { kind: "sqlite", path };
    }
    const database = dbName(system);
    const url = await this.requireAdmin().fresh(database, templateName(system));
    return { kind: "postgres", url, database };
  }

  /** Committed transactions so far, once every session of the run's database has gone (counters flushed). */
  async commits(target: Target): Promise<number | null> {
    if (target.kind !== "postgres") return null;
    const admin = this.requireAdmin();
    await admin.waitForNoConnections(target.database);
    return admin.xactCommit(target.database);
  }

  /** Drops the databases and files this suite made (templates included). */
  async cleanup(systems: readonly BenchSystem[]): Promise<void> {
    rmSync(SQLITE_DIR, { recursive: true, force: true });
    if (!this.admin) return;
    for (const system of systems) {
      if (system.storage !== "postgres") continue;
      await this.admin.drop(dbName(system));
      await this.admin.drop(templateName(system));
    }
  }

  private removeOldSqliteFiles(): void {
    for (const path of this.sqliteFiles) for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
    this.sqliteFiles = [];
  }

  private requireAdmin(): PgAdmin {
    if (!this.admin) throw new Error("PostgreSQL is not available (set BENCH_DATABASE_URL)");
    return this.admin;
  }
}
