/**
 * A TCP proxy in front of PostgreSQL that every Zart process of the chaos run connects through, so the run
 * can black-hole their connections: sockets stay open, nothing gets through, and then it flows again.
 *
 * Why a proxy and what "black hole" means here: this machine has neither iptables nor nft, and a firewall
 * rule would be machine-wide anyway (a run that dies leaves it behind for everyone). A real DROP rule loses
 * packets, not bytes: TCP retransmits what was dropped until the path comes back (or its retransmission
 * timeout, many minutes, runs out), so both ends see an open, silent connection that later resumes
 * intact. The proxy gives exactly that: while black-holed it forwards nothing, stops reading its sockets
 * (what was sent stays in the kernel buffers, as unacknowledged segments would) and holds new connections
 * open without connecting them onward (a SYN that is dropped looks the same: the connect hangs until the
 * client's own timeout). Throwing the bytes away instead would corrupt the protocol streams, which no
 * network does under TCP. On restore, what was held is forwarded and new connections are connected.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

interface Pair {
  client: Socket;
  upstream: Socket | null;
  /** Client bytes read before the upstream connection existed. */
  early: Buffer[];
}

export class TcpProxy {
  private holding = false;
  private readonly pairs = new Set<Pair>();
  private readonly waiting: Pair[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the proxy has no TCP address");
    const proxy = new TcpProxy(server, address.port, { host: targetHost, port: targetPort });
    server.on("connection", (client) => proxy.accept(client));
    return proxy;
  }

  get blackHoled(): boolean {
    return this.holding;
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** From now on nothing gets through, in either direction; every socket stays open. */
  blackHole(): void {
    this.holding = true;
    for (const pair of this.pairs) {
      pair.client.pause();
      pair.upstream?.pause();
    }
  }

  /** Traffic flows again: held connections are connected onward, paused sockets read again. */
  restore(): void {
    this.holding = false;
    for (const pair of this.waiting.splice(0)) this.connectUpstream(pair);
    for (const pair of this.pairs) {
      pair.client.resume();
      pair.upstream?.resume();
    }
  }

  /**
   * The proxy's own local ports towards PostgreSQL (`client_port` in pg_stat_activity) for the connections
   * that came from these client ports: how a process's backends are found behind the proxy.
   */
  upstreamPorts(clientPorts: readonly number[]): number[] {
    const wanted = new Set(clientPorts);
    const ports: number[] = [];
    for (const pair of this.pairs) {
      if (pair.client.remotePort !== undefined && wanted.has(pair.client.remotePort) && pair.upstream?.localPort !== undefined)
        ports.push(pair.upstream.localPort);
    }
    return ports;
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) this.drop(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const pair: Pair = { client, upstream: null, early: [] };
    this.pairs.add(pair);
    client.on("data", (chunk: Buffer) => {
      if (pair.upstream?.readyState === "open") pair.upstream.write(chunk);
      else pair.early.push(chunk);
    });
    client.on("error", () => this.drop(pair));
    client.on("close", () => this.drop(pair));
    if (this.holding) {
      client.pause();
      this.waiting.push(pair);
    } else this.connectUpstream(pair);
  }

  private connectUpstream(pair: Pair): void {
    if (pair.client.destroyed) return;
    const upstream = connect(this.target.port, this.target.host);
    pair.upstream = upstream;
    upstream.on("connect", () => {
      for (const chunk of pair.early.splice(0)) upstream.write(chunk);
      if (this.holding) upstream.pause();
    });
    upstream.on("data", (chunk: Buffer) => pair.client.write(chunk));
    // The database went away (a restart) or refused: the client sees its connection end, as it would.
    upstream.on("error", () => this.drop(pair));
    upstream.on("close", () => this.drop(pair));
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
