/**
 * One PostgreSQL store's hold on the database: its pool, its dedicated LISTEN connection, where notices go
 * after commit, the timer that folds status-count deltas, and what a call does when its connection is lost.
 * postgres-store.ts maps each Store method onto the SQL modules and picks, per method, `retrying` (its
 * repetition is harmless) or `write` (it is not); everything that outlives a single call lives here.
 *
 * Connections per instance: the pool (`poolSize`, default 10, opened lazily, idle ones closed after 10 s)
 * plus one dedicated LISTEN connection. The pool drops dead idle clients on its own (its 'error' handler
 * only logs), and the listener reconnects and re-LISTENs itself.
 */
import pg from "pg";
import { type Logger, silentLogger } from "../../core/logger.js";
import { NoticeHub } from "../notice-hub.js";
import type { Notice, NoticeListener } from "../store.js";
import { channelFor, describeUrl, isConnectionError, quoteIdent, storeUnavailable, typeParsers, validateSchemaName } from "./connection.js";
import { NotificationListener } from "./listener.js";
import { NoticePublisher } from "./publisher.js";
import * as queries from "./queries.js";
import type { SqlContext } from "./sql-context.js";
import { WatchPresence, watchLockArgs } from "./watch-presence.js";

export interface ConnectionOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Schema holding Zart's tables (default `zart`): letters, digits and `_`, at most 63. */
  schema?: string;
  /** Pool size (default 10). The store uses one more connection for LISTEN. */
  poolSize?: number;
  logger?: Logger;
  /** How often this store folds status-count deltas (default 2000 ms). */
  compactEveryMs?: number;
  /**
   * How long one of this store's transactions may sit idle (its process stalled) before PostgreSQL ends its
   * session and releases its locks (default 10,000 ms; see `IDLE_IN_TRANSACTION_MS` in sql-context.ts).
   */
  idleInTransactionMs?: number;
  /**
   * How long this process keeps announcing that it waits for executions to end after its last waiter left
   * (default 10,000 ms; watch-presence.ts).
   */
  watchLingerMs?: number;
}

/**
 * The backend PID a pooled client talks to. Notifications carry the sender's PID: those sent by our own
 * pool were already delivered to our subscribers right after commit, so the LISTEN echo is dropped and each
 * write yields one notice per subscriber here. node-postgres sets `processID` at startup but does not type it.
 */
function backendPid(client: pg.PoolClient): number | null {
  const pid = (client as unknown as { processID?: number | null }).processID;
  return typeof pid === "number" ? pid : null;
}

/**
 * When the server drops every connection at once (restart, failover, pg_terminate_backend), each idle
 * pooled client learns it only when its socket reports the close; a read that races those reports can pick
 * several dead clients in a row. So a read gets one attempt per pooled connection plus one, with a short
 * growing pause that lets the pool evict the dead clients (15, 30, 45 ms...).
 */
const READ_RETRY_PAUSE_MS = 15;
/** A connect that hangs (unreachable host) fails rather than blocking a request forever. */
const CONNECT_TIMEOUT_MS = 15_000;
/**
 * Every statement of this store reaches its rows through an index. Statements stay prepared for a
 * connection's life and PostgreSQL keeps one generic plan for each after five runs; made while a table
 * held a page or two, that plan reads the whole table (a sequential scan is then the cheapest lookup by
 * id) and keeps doing so as the table grows, until an ANALYZE replans it: never where autovacuum is off,
 * a minute or more into a fresh install otherwise. Off for the session, as `pick_due` and `list_page`
 * already run. JIT goes off with it, as in those functions: a statement whose only plan is a sequential
 * scan (the small count tables) carries the disabled plan's penalty in its cost estimate, far above
 * `jit_above_cost`, and would be compiled on every run (docs/decisions/044-plans-without-sequential-scans.md).
 */
const PLANNER_SETTINGS = "SELECT set_config('enable_seqscan', 'off', false), set_config('jit', 'off', false)";

export class StoreConnections {
  readonly ctx: SqlContext;
  private readonly notices: NoticeHub;
  /** Backend PIDs of this store's pooled connections (see `backendPid`). */
  private readonly ownBackends = new Set<number>();
  private listener: NotificationListener | null = null;
  private presence: WatchPresence | null = null;
  private readonly publisher: NoticePublisher;
  private compactTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
    private readonly channel: string,
    readonly logger: Logger,
    readonly poolSize: number,
    readonly description: string,
    idleInTransactionMs: number | undefined,
  ) {
    this.ctx = { pool, s: quoteIdent(schema), logger, idleInTransactionMs };
    this.notices = new NoticeHub(logger);
    this.publisher = new NoticePublisher(pool, channel, logger);
  }

  /** Connects the pool (one test query) and the listener, and starts compaction. Does not migrate. */
  static async open(options: ConnectionOptions): Promise<StoreConnections> {
    const schema = validateSchemaName(options.schema ?? "zart");
    const description = describeUrl(options.url, schema);
    const logger = (options.logger ?? silentLogger).child({ store: "postgres", location: description });
    const base: pg.ClientConfig = { connectionString: options.url, types: typeParsers, connectionTimeoutMillis: CONNECT_TIMEOUT_MS };
    const poolSize = options.poolSize ?? 10;
    const { idleInTransactionMs } = options;
    if (idleInTransactionMs !== undefined && (!Number.isInteger(idleInTransactionMs) || idleInTransactionMs < 1))
      throw new RangeError(`idleInTransactionMs must be a whole number of milliseconds, at least 1 (got ${idleInTransactionMs})`);
    const pool = new pg.Pool({
      ...base,
      application_name: `zart:${schema}`.slice(0, 63),
      max: poolSize,
      onConnect: (client) => client.query(PLANNER_SETTINGS),
    });
    // An idle client whose backend is terminated emits 'error' on the pool; unhandled, it would crash the process.
    pool.on("error", (error) => logger.warn({ err: error }, "idle postgres connection lost; the pool replaces it"));
    const connections = new StoreConnections(pool, schema, channelFor(schema), logger, poolSize, description, idleInTransactionMs);
    pool.on("connect", (client) => {
      const pid = backendPid(client);
      if (pid !== null) connections.ownBackends.add(pid);
    });
    pool.on("remove", (client) => {
      const pid = backendPid(client);
      if (pid !== null) connections.ownBackends.delete(pid);
    });
    try {
      await pool.query("SELECT 1");
      await connections.startListener({ ...base, application_name: `zart-listen:${schema}`.slice(0, 63) }, options.watchLingerMs ?? 10_000);
    } catch (error) {
      await connections.close();
      throw isConnectionError(error) ? storeUnavailable(error, description) : error;
    }
    connections.startCompaction(options.compactEveryMs ?? 2000);
    return connections;
  }

  private async startListener(config: pg.ClientConfig, watchLingerMs: number): Promise<void> {
    const listener = new NotificationListener({
      config,
      channel: this.channel,
      logger: this.logger,
      onNotice: (notice, senderPid) => {
        if (senderPid === undefined || !this.ownBackends.has(senderPid)) this.notices.emit([notice]);
      },
      watchLockArgs: watchLockArgs(this.ctx.s),
    });
    this.listener = listener;
    this.presence = new WatchPresence(listener, watchLingerMs);
    await listener.start();
  }

  /** See Store.watchTerminals. */
  watchTerminals(): Promise<() => Promise<void>> {
    if (this.presence === null) return Promise.resolve(async () => {});
    return this.presence.hold();
  }

  private startCompaction(everyMs: number): void {
    this.compactTimer = setInterval(() => {
      this.compactCounts().catch((error: unknown) => {
        if (this.closed) return;
        // Before the first migrate() the function does not exist yet: nothing to fold, nothing to report.
        const code = (error as { code?: unknown }).code;
        if (code === "3F000" || code === "42883") return;
        this.logger.warn({ err: error }, "status count compaction failed; will retry");
      });
    }, everyMs);
    this.compactTimer.unref();
  }

  /** Folds status-count deltas now; 0 when there were none or another process holds the compaction lock. */
  compactCounts(): Promise<number> {
    return this.write(() => queries.compactCounts(this.ctx, this.schema));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.compactTimer) clearInterval(this.compactTimer);
    this.compactTimer = null;
    await this.publisher.flush();
    this.presence?.close();
    await this.listener?.close();
    await this.pool.end();
  }

  /**
   * The database clock minus `localNow()`: the smallest-round-trip of five samples, taking the database's
   * reading as made halfway through the round trip (so the error is at most half that round trip).
   */
  async clockOffset(localNow: () => number): Promise<number> {
    let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
    for (let i = 0; i < 5; i++) {
      const sent = localNow();
      const row = await this.retrying(() =>
        this.pool.query<{ ms: number }>("SELECT (extract(epoch from clock_timestamp()) * 1000)::float8 AS ms"),
      );
      const received = localNow();
      const rtt = received - sent;
      if (rtt < best.rtt) best = { rtt, offset: Math.round((row.rows[0]?.ms ?? 0) - (sent + received) / 2) };
    }
    return best.offset;
  }

  subscribe(listener: NoticeListener): () => void {
    return this.notices.subscribe(listener);
  }

  /**
   * Only after commit: `published` to other processes (by default all of them; a write that found nobody
   * watching leaves its terminal notices out, watch-presence.ts), and all to ours (where a listener that
   * throws is logged and skipped).
   */
  emit(notices: readonly Notice[], published: readonly Notice[] = notices): void {
    this.publisher.publish(published);
    this.notices.emit(notices);
  }

  /** A write's answer, once its notices went out (after its commit, to this process and to the others). */
  async emitting<R>(write: Promise<{ result: R; notices: Notice[]; published?: Notice[] }>): Promise<R> {
    const { result, notices, published } = await write;
    this.emit(notices, published);
    return result;
  }

  /** For calls whose repetition is harmless: reads, absolute upserts, and the writes that say so. */
  async retrying<T>(work: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await work(attempt);
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        if (attempt > this.poolSize || this.closed) throw storeUnavailable(error, this.description);
        this.logger.debug({ err: error, attempt }, "postgres call failed on a lost connection; retrying");
        await new Promise((resolve) => setTimeout(resolve, READ_RETRY_PAUSE_MS * attempt));
      }
    }
  }

  /** For calls that must not be repeated: a lost connection fails them with `store_unavailable`. */
  async write<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw isConnectionError(error) ? storeUnavailable(error, this.description) : error;
    }
  }
}
