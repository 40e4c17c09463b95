/**
 * The soak and overload scripts write into a database of their own (by default `zsoak` on the local
 * server); on a fresh machine it does not exist yet, so it is created first, through the server's
 * `postgres` database, by the same user.
 */
import pg from "pg";

export async function ensureDatabase(url: string): Promise<void> {
  const client = new pg.Client(url);
  try {
    await client.connect();
    return;
  } catch (error) {
    // 3D000: invalid_catalog_name, the database does not exist. Anything else is the caller's to see.
    if ((error as { code?: string }).code !== "3D000") throw error;
  } finally {
    await client.end().catch(() => {});
  }
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const maintenance = new URL(url);
  maintenance.pathname = "/postgres";
  maintenance.search = "";
  const admin = new pg.Client(maintenance.toString());
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
}
