/**
 * The store's one dedicated LISTEN connection. node-postgres does not reconnect a client, and a NOTIFY sent
 * while nobody listens is gone for good, so this class: reconnects with capped, jittered backoff when the
 * connection errors or ends (database restart, `pg_terminate_backend`, network cut), re-issues LISTEN, and
 * only then reports `reconnected` so the engine re-polls for whatever it missed. A heartbeat query notices
 * a silently dead TCP connection (no FIN, no RST) long before kernel keepalives would. It also holds the
 * shared watch lock while this process waits for executions to end (watch-presence.ts), and takes it again
 * on a new connection before reporting `reconnected`.
 */
import pg from "pg";
import type { Logger } from "../../core/logger.js";
import type { Notice } from "../store.js";
import { decodeNotices } from "./notice-payload.js";
import type { WatchLock } from "./watch-presence.js";

export interface ListenerOptions {
  config: pg.ClientConfig;
  channel: string;
  logger: Logger;
  /** `senderPid` is the backend that sent the NOTIFY (absent for `reconnected`). */
  onNotice: (notice: Notice, senderPid?: number) => void;
  /** Default 30 s. */
  heartbeatMs?: number;
  /** The watch lock's keys as SQL arguments (watch-presence.ts `watchLockArgs`). */
  watchLockArgs: string;
}

const BACKOFF_FIRST_MS = 100;
const BACKOFF_CAP_MS = 5000;
const HEARTBEAT_TIMEOUT_MS = 10_000;

export class NotificationListener implements WatchLock {
  private client: pg.Client | null = null;
  /** Whether this process wants the shared watch lock, and whether the current connection holds it. */
  private watching = false;
  private watchHeld = false;
  private watchQueue: Promise<void> = Promise.resolve();
  private closed = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: ListenerOptions) {}

  /** First connection: failures propagate, so a store that cannot listen does not pretend it can. */
  async start(): Promise<void> {
    await this.connect();
    const every = this.options.heartbeatMs ?? 30_000;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), every);
    this.heartbeatTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.reconnectTimer = null;
    this.heartbeatTimer = null;
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.options.config);
    // Registered before connect(): an 'error' event without a listener would crash the process.
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, new Error("listener connection ended")));
    client.on("notification", (message) => {
      if (message.channel !== this.options.channel || message.payload === undefined) return;
      const notices = decodeNotices(message.payload);
      if (notices.length === 0) this.options.logger.warn({ payload: message.payload }, "unrecognised postgres notification");
      for (const notice of notices) this.options.onNotice(notice, message.processId);
    });
    let held = false;
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.channel}"`);
      held = this.watching;
      if (held) await client.query(`SELECT pg_advisory_lock_shared(${this.options.watchLockArgs})`);
    } catch (error) {
      client.removeAllListeners("end");
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.watchHeld = held;
    this.client = client;
    // Wanted otherwise while this connection was being made.
    if (this.watching !== held) void this.setWatching(this.watching);
  }

  /**
   * Takes or drops the shared watch lock on this connection; in order, one change at a time. Never rejects:
   * a connection that fails here is reconnected (and takes the lock again if still wanted) like any other.
   */
  setWatching(on: boolean): Promise<void> {
    this.watching = on;
    this.watchQueue = this.watchQueue.then(() => this.applyWatching());
    return this.watchQueue;
  }

  private async applyWatching(): Promise<void> {
    const client = this.client;
    if (!client || this.watching === this.watchHeld) return;
    const want = this.watching;
    try {
      await client.query(`SELECT pg_advisory_${want ? "" : "un"}lock_shared(${this.options.watchLockArgs})`);
      if (this.client === client) this.watchHeld = want;
    } catch (error) {
      this.options.logger.debug({ err: error }, "postgres listener could not change its watch lock");
    }
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client || this.closed) return;
    this.client = null;
    this.options.logger.warn({ err: error }, "postgres listener connection lost; reconnecting");
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const base = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** this.failures);
    // Jitter spreads the reconnects of many processes after a database restart.
    const delay = base / 2 + Math.random() * (base / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().then(
        () => {
          if (this.closed) return;
          this.failures = 0;
          this.options.logger.info({ channel: this.options.channel }, "postgres listener reconnected");
          this.options.onNotice({ kind: "reconnected" });
        },
        (error: unknown) => {
          this.failures += 1;
          this.options.logger.warn({ err: error, failures: this.failures }, "postgres listener reconnect failed");
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.reconnectTimer.unref();
  }

  private heartbeat(): void {
    const client = this.client;
    if (!client || this.closed) return;
    const deadline = setTimeout(() => this.lost(client, new Error("listener heartbeat timed out")), HEARTBEAT_TIMEOUT_MS);
    deadline.unref();
    client.query("SELECT 1").then(
      () => clearTimeout(deadline),
      (error: unknown) => {
        clearTimeout(deadline);
        this.lost(client, error instanceof Error ? error : new Error(String(error)));
      },
    );
  }
}
