/**
 * Which environment variables each long-running command reads: one environment is often shared by a
 * fleet's server, workers and migration job, and a value meant for another command is not this one's to
 * refuse.
 */

/** The commands that read the configuration. */
export type RunCommand = "serve" | "worker" | "migrate";

/** The environment variables each command leaves unread. */
const UNUSED_ENV: Readonly<Record<RunCommand, readonly string[]>> = {
  serve: ["ZART_WORKER_HTTP_PORT"],
  worker: ["ZART_PORT"],
  migrate: [
    "ZART_PORT",
    "ZART_HOST",
    "ZART_WORKER_HTTP_PORT",
    "ZART_TASKS",
    "ZART_CONCURRENCY",
    "ZART_LOG_LEVEL",
    "ZART_RETENTION",
    "ZART_API_TOKEN",
    "ZART_API_TOKENS",
  ],
};

/** `env` without the variables `command` does not use. */
export function envUsedBy(
  command: RunCommand,
  env: Readonly<Record<string, string | undefined>>,
): Readonly<Record<string, string | undefined>> {
  const used = { ...env };
  for (const name of UNUSED_ENV[command]) delete used[name];
  return used;
}
