/**
 * Faults that hit the database or the way to it, for every Zart process at once: a restart of the
 * server (fast shutdown: every connection cut, the server down for a moment), a round of
 * pg_terminate_backend on every connection of the Zart processes (pools and LISTEN connections), and
 * the black hole (the proxy forwards nothing for a while, sockets left open). Each is an outage: 503
 * store_unavailable is allowed during it, and the step runs of executions running across it may run twice.
 */
import { setTimeout as pause } from "node:timers/promises";
import { SCHEMA } from "./database.js";
import { beforeDatabaseFault, type FaultContext, untilReady } from "./fault-context.js";

export async function restartPostgres(ctx: FaultContext): Promise<void> {
  const n = ctx.counts.pgRestarts + 1;
  const after = await beforeDatabaseFault(ctx, `pg-restart-${n}`);
  const outage = ctx.outages.begin("pg-restart");
  try {
    await ctx.cluster.postgres.restart();
  } finally {
    ctx.outages.end(outage);
  }
  ctx.counts.pgRestarts = n;
  after();
  await untilReady(ctx, outage.end ?? Date.now());
}

export async function terminateBackends(ctx: FaultContext): Promise<void> {
  const n = ctx.counts.terminateRounds + 1;
  const after = await beforeDatabaseFault(ctx, `terminate-${n}`);
  const outage = ctx.outages.begin("terminate");
  try {
    // MATERIALIZED: the filter must run before pg_terminate_backend, or the planner may kill every backend.
    const rows = await ctx.db.query<{ pid: number }>(
      `WITH victims AS MATERIALIZED (
         SELECT pid FROM pg_stat_activity WHERE application_name IN ($1, $2) AND pid <> pg_backend_pid())
       SELECT pid FROM victims WHERE pg_terminate_backend(pid)`,
      [`zart:${SCHEMA}`, `zart-listen:${SCHEMA}`],
    );
    ctx.counts.terminatedBackends += rows.length;
  } finally {
    ctx.outages.end(outage);
  }
  ctx.counts.terminateRounds = n;
  after();
  await untilReady(ctx, outage.end ?? Date.now());
}

export async function blackHole(ctx: FaultContext, seconds: number): Promise<void> {
  const n = ctx.counts.blackHoles + 1;
  const after = await beforeDatabaseFault(ctx, `black-hole-${n}`);
  const outage = ctx.outages.begin("black-hole");
  const began = Date.now();
  ctx.cluster.proxy.blackHole();
  try {
    await pause(seconds * 1000);
  } finally {
    ctx.cluster.proxy.restore();
    ctx.outages.end(outage);
  }
  ctx.counts.blackHoles = n;
  ctx.counts.blackHoleSeconds += (Date.now() - began) / 1000;
  after();
  await untilReady(ctx, outage.end ?? Date.now());
}
