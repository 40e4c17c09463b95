/**
 * The command line: `zart serve | worker | migrate`, the client commands that operate a running
 * server (`zart start | get | steps | wait | list | …`, see commands/), and `zart-server` (= `zart
 * serve`). Parses flags with commander, resolves options once, and maps failures to exit codes: 2 for
 * bad flags or configuration, 1 for anything that goes wrong while starting. Client commands set
 * their own exit codes (commands/client-command.ts).
 *
 * The server-side modules (config schema, fastify, the stores) are imported when their command runs:
 * they take most of a second to load, which a client command such as `zart get` should not pay.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import type { RunCommand } from "./command-env.js";
import { ConfigError } from "./config-error.js";
import type { CliFlags } from "./resolve-config.js";

const collect = (value: string, previous: string[]) => [...previous, value];

/** Options every long-running command takes. */
function withRunOptions(command: Command): Command {
  return command
    .option("-d, --database <url>", "SQLite file or sqlite:/postgres:// URL (env ZART_DATABASE_URL; default ./zart.db)")
    .option("-t, --tasks <module>", "task module to load; repeatable (env ZART_TASKS, comma-separated)", collect, [])
    .option("-c, --config <file>", "JSON config file (env ZART_CONFIG)")
    .option("--concurrency <n>", "executions run at once by this process's worker (env ZART_CONCURRENCY; default 50)")
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace|silent (env ZART_LOG_LEVEL; default info)")
    .option(
      "--retention <duration>",
      "prune finished executions that ended longer ago than this, e.g. 30d (env ZART_RETENTION; default off: keep everything)",
    );
}

async function configFrom(flags: CliFlags, command: RunCommand) {
  const { assertDatabaseUrl, resolveConfig } = await import("./resolve-config.js");
  const config = resolveConfig({ flags, command, env: process.env, cwd: process.cwd(), readFile: (path) => readFileSync(path, "utf8") });
  await assertDatabaseUrl(config);
  return config;
}

function addServe(command: Command): Command {
  return withRunOptions(command)
    .option("-p, --port <port>", "port to listen on (env ZART_PORT; default 7700; 0 picks a free port)")
    .option("-H, --host <host>", "address to bind (env ZART_HOST; default 127.0.0.1)")
    .option("--no-worker", "serve the API only; run no executions here")
    .option("--allow-unauthenticated-remote", "allow binding a non-loopback address with no token configured")
    .action(async (flags: CliFlags) => {
      const config = await configFrom(flags, "serve");
      const { assertSafeBind } = await import("./resolve-config.js");
      assertSafeBind(config);
      const { serve } = await import("./serve.js");
      return serve(config);
    });
}

function packageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

async function buildProgram(name: "zart" | "zart-server"): Promise<Command> {
  if (name === "zart-server") {
    return addServe(new Command("zart-server").description("Zart HTTP API and workers in one process").version(packageVersion()));
  }
  const program = new Command("zart").description("Zart durable execution engine").version(packageVersion());
  program.commandsGroup("Run Zart:");
  addServe(program.command("serve").description("HTTP API plus workers (same as zart-server)"));
  withRunOptions(program.command("worker").description("run workers only (no API)"))
    .option("--http-port <port>", "serve /healthz, /readyz and /metrics on this port (env ZART_WORKER_HTTP_PORT; default: no HTTP)")
    .option("-H, --host <host>", "address for --http-port (env ZART_HOST; default 127.0.0.1)")
    .option("--allow-unauthenticated-remote", "allow --http-port on a non-loopback address with no token configured")
    .action(async (flags: CliFlags) => {
      const config = await configFrom(flags, "worker");
      const { runWorker } = await import("./worker-command.js");
      return runWorker(config);
    });
  program
    .command("migrate")
    .description("apply store migrations and exit")
    .option("-d, --database <url>", "SQLite file or sqlite:/postgres:// URL (env ZART_DATABASE_URL)")
    .option("-c, --config <file>", "JSON config file (env ZART_CONFIG)")
    .action(async (flags: CliFlags) => {
      const config = await configFrom(flags, "migrate");
      const { openStore } = await import("../store/open-store.js");
      const store = await openStore(config.database);
      await store.migrate();
      console.log(`migrations applied: ${store.kind} ${store.description}`);
      await store.close();
    });
  program.commandsGroup("Operate a running server (--server URL, env ZART_SERVER):");
  // Imported here, so that `zart-server` (a long-running process) does not hold the client commands' modules.
  const { addClientCommands } = await import("./commands/index.js");
  addClientCommands(program);
  return program;
}

/** Usage errors throw instead of exiting, in every command and subcommand, so main() picks the code. */
function overrideExits(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) overrideExits(sub);
}

/** Runs the program; resolves after start-up (long-running commands keep the process alive). */
export async function main(name: "zart" | "zart-server", argv: readonly string[]): Promise<void> {
  const program = await buildProgram(name);
  overrideExits(program);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exit(error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0 ? 0 : 2);
    }
    if (error instanceof ConfigError) {
      console.error(`${name}: ${error.message}`);
      process.exit(2);
    }
    console.error(`${name}: failed to start: ${(error as Error).message}`);
    process.exit(1);
  }
}
