/**
 * Connection plumbing for the PostgreSQL store: schema-name validation, the notification channel name,
 * pool/client configuration (with this store's own type parsers) and the classification of errors that
 * mean "the database connection is gone" rather than "the statement was wrong".
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { ZartError } from "../../core/errors.js";

/** PostgreSQL truncates identifiers beyond NAMEDATALEN - 1 = 63 bytes; refuse instead of truncating. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function validateSchemaName(schema: string): string {
  if (!IDENTIFIER.test(schema)) {
    throw new ZartError(
      "invalid_request",
      `PostgreSQL schema name ${JSON.stringify(schema)} must be 1-63 letters, digits or underscores, not starting with a digit`,
    );
  }
  return schema;
}

/** Double-quoted identifier; only ever called on names that passed {@link validateSchemaName}. */
export function quoteIdent(name: string): string {
  return `"${name}"`;
}

/**
 * One LISTEN channel per schema, so two Zart installations sharing a database never wake each other.
 * Channel names are identifiers too (max 63 bytes): long schema names get a hashed suffix.
 */
export function channelFor(schema: string): string {
  const plain = `zart_${schema}`;
  if (plain.length <= 63) return plain;
  const digest = createHash("sha1").update(schema).digest("hex").slice(0, 16);
  return `zart_${schema.slice(0, 40)}_${digest}`;
}

/**
 * int8 (OID 20) as a JS number: every bigint we store is an epoch-ms time, a count or a lease token, all far
 * below 2^53. Set on our own pool and clients only, so other pg users in the process keep the default.
 */
const INT8_OID = 20;
const parseInt8 = (text: string): number => Number(text);

export const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8_OID && format !== "binary") return parseInt8;
    return pg.types.getTypeParser(oid, format === "binary" ? "binary" : "text");
  }) as pg.CustomTypesConfig["getTypeParser"],
};

/** `host:port/database (schema)` without user or password, for logs and `/readyz`. */
export function describeUrl(url: string, schema: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || parsed.searchParams.get("host") || "localhost";
    const port = parsed.port || parsed.searchParams.get("port") || "5432";
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "postgres";
    return `${host}:${port}/${database} (${schema})`;
  } catch {
    return `postgres (${schema})`;
  }
}

/** SQLSTATE classes and driver messages that mean the connection (not the statement) failed. */
const CONNECTION_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);
const CONNECTION_MESSAGES =
  /Connection terminated|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i;

export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (code.startsWith("08") || CONNECTION_SQLSTATES.has(code))) return true;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code) && CONNECTION_MESSAGES.test(code)) return true;
  return CONNECTION_MESSAGES.test(error.message);
}

export function storeUnavailable(error: unknown, description: string): ZartError {
  const reason = error instanceof Error ? error.message : String(error);
  return new ZartError("store_unavailable", `PostgreSQL at ${description} is unavailable: ${reason}`, { cause: error });
}
