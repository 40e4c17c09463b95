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
