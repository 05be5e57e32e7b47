/** The loopback `Deno.serve` behind the guard: TLS and HTTP, restarted if it ever ends. */

import type { TlsPair } from "./dev_credentials.ts";
import type { Logger } from "../log.ts";

/**
 * The internal `Deno.serve`, started again whenever it stops by itself: its accept loop ends
 * for good on an accept error (EMFILE when descriptors run out), which would otherwise end the
 * process. A new one listens on a new loopback port, which the guard reads for each connection.
 */
export class InternalServer {
  readonly #start: (tls: TlsPair | null) => Deno.HttpServer<Deno.NetAddr>;
  readonly #log: Logger;
  #tls: TlsPair | null;
  #server: Deno.HttpServer<Deno.NetAddr>;
  /** Servers replaced by a reload, finishing their connections. */
  readonly #retired = new Set<Deno.HttpServer<Deno.NetAddr>>();
  #stopping = false;
  readonly #stopped = Promise.withResolvers<void>();

  /** Starts the first server; throws as `Deno.serve` does. */
  constructor(
    start: (tls: TlsPair | null) => Deno.HttpServer<Deno.NetAddr>,
    tls: TlsPair | null,
    log: Logger,
  ) {
    this.#start = start;
    this.#log = log;
    this.#tls = tls;
    this.#server = start(tls);
    this.#watch();
  }

  /**
   * Serves `tls` to new connections: a new server starts with it (a bad pair throws here, and
   * the old one goes on); the old one keeps its connections until `drained` resolves, then stops.
   */
  reload(tls: TlsPair, drained: (port: number) => Promise<void>): void {
    const next = this.#start(tls);
    const old = this.#server;
    this.#tls = tls;
    this.#server = next;
    this.#watch();
    this.#retired.add(old);
    void drained(old.addr.port).then(async () => {
      await old.shutdown().catch(() => {});
      this.#retired.delete(old);
    });
  }

  /** The loopback port of the server running now. */
  get port(): number {
    return this.#server.addr.port;
  }

  /** Resolves once {@link shutdown} has stopped the server. */
  get finished(): Promise<void> {
    return this.#stopped.promise;
  }

  async shutdown(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#retired].map((old) => old.shutdown().catch(() => {})));
    await this.#server.shutdown().catch(() => {});
    await this.#stopped.promise;
  }

  #watch(): void {
    const server = this.#server;
    server.finished.then(
      () => this.#ended(server, null),
      (error: unknown) => this.#ended(server, error),
    );
  }

  async #ended(server: Deno.HttpServer<Deno.NetAddr>, error: unknown): Promise<void> {
    if (server !== this.#server) return;
    if (this.#stopping) return this.#stopped.resolve();
    this.#log.error("The internal server stopped; starting it again", error ?? "it ended");
    for (let backoffMs = 10; !this.#stopping; backoffMs = Math.min(backoffMs * 2, 1000)) {
      await delay(backoffMs);
      try {
        this.#server = this.#start(this.#tls);
        this.#watch();
        return;
      } catch { /* still out of descriptors: wait longer */ }
    }
    this.#stopped.resolve();
  }
}

/** Resolves after `ms`, without keeping the process alive. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const id = setTimeout(resolve, ms);
    Deno.unrefTimer(id);
  });
}
