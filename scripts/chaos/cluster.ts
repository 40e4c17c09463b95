/**
 * The processes of a chaos run: a private PostgreSQL (never the machine's shared one: the run restarts
 * it), the TCP proxy every Zart process reaches it through, API-only `zart serve` processes and
 * `zart worker` processes, all started as test/support/processes.ts starts them. Each process slot is
 * refilled after its process dies: after a kill by the run (the fault code restarts it) or a crash of its
 * own (a poison step), which is reported to `onCrash` and then restarted here.
 */

import { setTimeout as pause } from "node:timers/promises";
import type { Exit } from "../../test/support/child-process.js";
import { type ServerProcess, startApiServer, startWorker, writeConfig, type ZartProcess } from "../../test/support/processes.js";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../throwaway-postgres.js";
import type { ChaosConfig } from "./config.js";
import { Database, SCHEMA } from "./database.js";
import { TcpProxy } from "./tcp-proxy.js";

const TASKS = "scripts/chaos/chaos-tasks.ts";
/** Start attempts per process before the run gives up on it. */
const START_ATTEMPTS = 10;

export type CrashHandler = (slot: number, worker: ZartProcess, exit: Exit) => Promise<void>;

export class Cluster {
  readonly apis: Array<Promise<ServerProcess>> = [];
  readonly workers: Array<Promise<ZartProcess>> = [];
  /** Worker processes started so far, by pid (the side-effect log names workers by pid). */
  readonly workerPids = new Set<number>();
  onCrash: CrashHandler = async () => {};
  private readonly killedOnPurpose = new Set<number>();
  private stopping = false;
  private next = 0;
  private started = 0;
  /** Starts that failed (and were tried again), e.g. during a database restart. */
  failedStarts = 0;

  private constructor(
    readonly config: ChaosConfig,
    readonly postgres: ThrowawayPostgres,
    readonly proxy: TcpProxy,
    readonly db: Database,
    private readonly zartUrl: string,
    private readonly workerConfig: string,
    private readonly effectsPath: string,
  ) {}

  static async start(config: ChaosConfig, dir: string, effectsPath: string): Promise<Cluster> {
    const postgres = await startThrowawayPostgres();
    const server = new URL(postgres.url);
    const proxy = await TcpProxy.start(server.hostname, Number(server.port));
    const viaProxy = new URL(postgres.url);
    viaProxy.port = String(proxy.port);
    viaProxy.searchParams.set("schema", SCHEMA);
    viaProxy.searchParams.set("pool_size", "4");
    // The safety poll finds work whose notice was lost with a cut LISTEN connection (the documented design).
    const workerConfig = writeConfig(dir, "worker.json", {
      worker: { leaseTime: `${config.leaseSeconds}s`, concurrency: config.workerConcurrency, safetyPoll: "2s", shutdownGrace: "1s" },
    });
    const cluster = new Cluster(config, postgres, proxy, new Database(postgres.url), viaProxy.toString(), workerConfig, effectsPath);
    // All at once on an empty schema: their migrations race, which must not fail.
    for (let slot = 0; slot < config.apiServers; slot++) cluster.apis.push(cluster.launchApi(slot));
    for (let slot = 0; slot < config.workers; slot++) cluster.workers.push(cluster.launchWorker(slot));
    await Promise.all([...cluster.apis, ...cluster.workers]);
    return cluster;
  }

  /** Process starts so far (first starts and restarts). */
  get processStarts(): number {
    return this.started;
  }

  /** The next API server's URL, round robin (a request waits while its server is restarting). */
  async apiUrl(): Promise<string> {
    const slot = this.next++ % this.apis.length;
    return (await this.apis[slot]!).url;
  }

  async killWorker(slot: number): Promise<ZartProcess> {
    const worker = await this.workers[slot]!;
    this.killedOnPurpose.add(worker.pid);
    await worker.killHard();
    return worker;
  }

  restartWorker(slot: number): Promise<ZartProcess> {
    this.workers[slot] = this.launchWorker(slot);
    return this.workers[slot]!;
  }

  /** SIGKILLs an API server and starts another in its slot; resolves once the new one listens. */
  async restartApi(slot: number): Promise<void> {
    const api = await this.apis[slot]!;
    const killed = api.killHard();
    this.apis[slot] = killed.then(() => this.launchApi(slot));
    await this.apis[slot];
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const all = await Promise.allSettled([...this.apis, ...this.workers]);
    await Promise.all(all.map((p) => (p.status === "fulfilled" ? p.value.killHard() : undefined)));
    await this.db.close().catch(() => {});
    await this.proxy.close();
    await this.postgres.stop();
  }

  private launchApi(slot: number): Promise<ServerProcess> {
    // The workers' config file: the lease sets how long a stalled transaction may hold rows (cli/resolve-config.ts).
    return this.persist(() => startApiServer({ database: this.zartUrl, config: this.workerConfig, label: `api-${slot}` }));
  }

  /**
   * Starts a process, again after a pause when it fails: a start that falls in an outage (the database
   * restarting) fails as it would in production, where a supervisor starts it again.
   */
  private async persist<P>(start: () => Promise<P>): Promise<P> {
    for (let attempt = 1; ; attempt++) {
      this.started += 1;
      try {
        return await start();
      } catch (error) {
        this.failedStarts += 1;
        if (this.stopping || attempt >= START_ATTEMPTS) throw error;
        await pause(1000);
      }
    }
  }

  private async launchWorker(slot: number): Promise<ZartProcess> {
    const worker = await this.persist(() =>
      startWorker({
        database: this.zartUrl,
        tasks: [TASKS],
        config: this.workerConfig,
        env: { ZART_EFFECTS_FILE: this.effectsPath, ZART_CHAOS_CRON: this.config.cron },
        label: `worker-${slot}`,
      }),
    );
    this.workerPids.add(worker.pid);
    void worker.exited.then(async (exit) => {
      if (this.stopping || this.killedOnPurpose.has(worker.pid)) return;
      try {
        await this.onCrash(slot, worker, exit);
      } finally {
        // A start that fails leaves the rejection in the slot, for whoever awaits it next.
        if (!this.stopping) void this.restartWorker(slot).catch(() => {});
      }
    });
    return worker;
  }
}
