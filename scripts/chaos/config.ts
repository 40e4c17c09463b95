/**
 * What one chaos run does: how many faults of each kind, the load, and the lease everything is sized by.
 * `FULL` is `npm run chaos` (about 12 minutes on a 2-core machine); `SHORT` is every scenario once, small,
 * for `npm test` (test/pg-chaos.test.ts) and `npm run chaos -- --short`.
 */
export interface ChaosConfig {
  /** The faults are spread evenly over this many minutes, under load all along. */
  minutes: number;
  /** New executions per second (mixed kinds) while the faults run. */
  rate: number;
  apiServers: number;
  workers: number;
  workerConcurrency: number;
  /** Workers' lease. The zombie is stopped for longer than this; a dead worker's work waits this long. */
  leaseSeconds: number;
  workerKills: number;
  apiKills: number;
  pgRestarts: number;
  terminateRounds: number;
  blackHoles: number;
  blackHoleSeconds: number;
  zombies: number;
  poisons: number;
  /** The schedule's cron (6 fields: it fires every few seconds). */
  cron: string;
  /** How long the end may take for every execution to finish once the load stopped. */
  drainSeconds: number;
}

export const FULL: ChaosConfig = {
  minutes: 11,
  rate: 6,
  apiServers: 2,
  workers: 3,
  workerConcurrency: 20,
  leaseSeconds: 10,
  workerKills: 100,
  apiKills: 10,
  pgRestarts: 10,
  terminateRounds: 10,
  blackHoles: 1,
  blackHoleSeconds: 30,
  zombies: 1,
  poisons: 5,
  cron: "*/5 * * * * *",
  drainSeconds: 240,
};

export const SHORT: ChaosConfig = {
  minutes: 0.5,
  rate: 4,
  apiServers: 2,
  workers: 3,
  workerConcurrency: 10,
  leaseSeconds: 4,
  workerKills: 3,
  apiKills: 1,
  pgRestarts: 1,
  terminateRounds: 1,
  blackHoles: 1,
  blackHoleSeconds: 2,
  zombies: 1,
  poisons: 2,
  cron: "*/2 * * * * *",
  drainSeconds: 90,
};
