/**
 * Numbered migrations as plain `.sql` files beside each store (`migrations/NNNN-name.sql`), read in
 * version order. A released file is never edited: a schema change is a new file with the next number.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE = /^(\d{4})-([a-z0-9-]+)\.sql$/;

export function loadMigrations(directory: URL): Migration[] {
  return readdirSync(directory)
    .flatMap((file) => {
      const match = FILE.exec(file);
      if (!match) return [];
      return [{ version: Number(match[1]), name: match[2] as string, sql: readFileSync(new URL(file, directory), "utf8") }];
    })
    .sort((a, b) => a.version - b.version);
}

export function latestVersion(all: readonly Migration[]): number {
  return all.reduce((max, m) => Math.max(max, m.version), 0);
}

/**
 * The database records a migration this release does not have: a newer release migrated it. This release
 * neither runs on it (its code would not match the tables) nor migrates it back. Stable `code`: `schema_too_new`.
 */
export class SchemaTooNewError extends Error {
  readonly code = "schema_too_new";
  constructor(
    where: string,
    readonly databaseVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      `${where} is at schema version ${databaseVersion}, but this Zart release knows versions up to ${knownVersion}: ` +
        "a newer release migrated it. Run that release (or a newer one) against it; this one will not run on it or migrate it back",
    );
    this.name = "SchemaTooNewError";
  }
}

/**
 * The database lacks migrations this release needs, and the process was told not to migrate
 * (`migrate: false`). Stable `code`: `schema_not_migrated`.
 */
export class SchemaNotMigratedError extends Error {
  readonly code = "schema_not_migrated";
  constructor(
    where: string,
    readonly databaseVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      `${where} is at schema version ${databaseVersion}, and this Zart release needs version ${knownVersion}: ` +
        "migrate it first (`zart migrate`, or start one process with migrate: true)",
    );
    this.name = "SchemaNotMigratedError";
  }
}

/** For a process that does not migrate: the database's version must be exactly this release's. */
export function requireCurrentSchema(where: string, applied: number, all: readonly Migration[]): void {
  refuseNewerSchema(where, applied, all);
  const known = latestVersion(all);
  if (applied < known) throw new SchemaNotMigratedError(where, applied, known);
}

/** Throws {@link SchemaTooNewError} when `applied` (the database's highest recorded version) is beyond `all`. */
export function refuseNewerSchema(where: string, applied: number, all: readonly Migration[]): void {
  const known = latestVersion(all);
  if (applied > known) throw new SchemaTooNewError(where, applied, known);
}
