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
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  admin.search = "";
  const client2 = new pg.Client(admin.toString());
  await client2.connect();
  try {
    await client2.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await client2.end();
  }
}
