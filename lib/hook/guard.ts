/**
 * The connection guard: the public TCP listener in front of the service's `Deno.serve`, which
 * has no timeouts or connection limits of its own. It accepts connections itself, caps how many
 * are open, survives every accept error (EMFILE included), and passes each connection's bytes
 * (still TLS: `Deno.serve` terminates it) to the internal server on a loopback port.
 *
 * It cannot read the encrypted bytes, so its deadlines follow who spoke last. A request ends
 * with the client speaking and its answer with the server speaking, so:
 * - until the server has sent anything (the TLS handshake), the connection has
 *   `handshakeTimeoutMs`;
 * - while the client has spoken last (a handshake, head or body still arriving, or a request
 *   being answered), it has `requestTimeoutMs` from the first of those bytes;
 * - while the server has spoken last (nothing outstanding), it may idle `idleTimeoutMs`.
 * A trickled head, a stalled body and a silent client are all closed by one of these. (A body
 * that stalls after its head reached the handler is answered 408 by the handler first.)
 *
 * Why not terminate TLS here: a `Deno.TlsConn` closed before its handshake completes keeps its
 * socket open (seen with Deno 2.9), so a handshake deadline could not free a descriptor.
 */

import type { Logger } from "../log.ts";

/** Limits and deadlines, in milliseconds; see docs/configuration.md, "Connections". */
export interface GuardLimits {
  /** Connections open at once; more are closed as soon as they are accepted. */
  readonly maxConnections: number;
  /** From accept until the server's first bytes (its side of the TLS handshake). */
  readonly handshakeTimeoutMs: number;
  /** From the client's first unanswered byte until the server answers. */
  readonly requestTimeoutMs: number;
  /** While nothing is outstanding. */
  readonly idleTimeoutMs: number;
  /** For one write to be taken: a client that never reads is closed. */
  readonly writeTimeoutMs: number;
}

/** Where to listen and where the internal server is. */
export interface GuardSettings extends GuardLimits {
  readonly hostname: string;
  readonly port: number;
  /** The internal `Deno.serve`'s loopback port now (it may be restarted on another). */
  readonly upstreamPort: () => number;
}

/** A running guard. */
export interface Guard {
  readonly addr: Deno.NetAddr;
  /** Connections open now. */
  readonly open: () => number;
  /**
   * The client address behind a connection the internal server sees from the guard (by its
   * loopback port), or `null` for one that did not come through the guard.
   */
  readonly peerOf: (internal: Deno.NetAddr) => string | null;
  /**
   * Tells the guard the handler began (`+1`) or finished (`-1`) a request on a connection, so
   * a drain never closes one whose request is being handled.
   */
  readonly handling: (internal: Deno.NetAddr, delta: 1 | -1) => void;
  /** Stops accepting. */
  stopAccepting(): void;
  /**
   * Closes each connection as soon as nothing is outstanding on it (the server spoke last);
   * the others close once answered.
   */
  drain(): void;
  /** Closes every connection at once: the end of a drain that ran out of time. */
  closeAll(): void;
  /** Resolves once no connection is open. */
  allClosed(): Promise<void>;
  /** Resolves once no connection is open to the internal server on `port` (after a reload). */
  noneTo(port: number): Promise<void>;
  /** Resolves when the accept loop has ended. */
  readonly finished: Promise<void>;
}

const BUFFER_BYTES = 16 * 1024;
/**
 * Stopping, a connection whose server spoke last closes after this much quiet: an answer may
 * arrive in more than one piece.
 */
const DRAIN_GRACE_MS = 50;
/** Accept errors and the connection limit are logged at most this often. */
const LOG_EVERY_MS = 10_000;
/**
 * Deadlines are checked by one sweep over every connection this often, instead of a timer per
 * connection reset on every chunk (timers were most of the guard's own cost); a deadline fires
 * up to this much late.
 */
export const SWEEP_MS = 100;

/** Starts listening; throws as `Deno.listen` does (address in use, permission). */
export function startGuard(settings: GuardSettings, log: Logger): Guard {
  const listener = Deno.listen({ hostname: settings.hostname, port: settings.port });
  const connections = new ObservedSet<Connection>();
  /** Internal loopback port of each connection -> the connection. */
  const peers = new Map<number, Connection>();
  const state = { accepting: true, draining: false };
  const overLimit = new Throttled(LOG_EVERY_MS);
  const acceptErrors = new Throttled(LOG_EVERY_MS);

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const connection of connections) connection.check(now);
  }, SWEEP_MS);
  Deno.unrefTimer(sweep);

  const finished = (async () => {
    let backoffMs = 10;
    while (state.accepting) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
        backoffMs = 10;
      } catch (error) {
        if (!state.accepting || error instanceof Deno.errors.BadResource) break;
        // Out of descriptors, or a connection reset before accept: wait a little, go on.
        const errors = acceptErrors.count();
        if (errors !== null) log.error("Cannot accept connections; retrying", error, { errors });
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 1000);
        continue;
      }
      if (connections.size >= settings.maxConnections) {
        closeQuietly(conn);
        const closed = overLimit.count();
        if (closed !== null) {
          log.warn("Connection limit reached: closing new connections", {
            open: connections.size,
            limit: settings.maxConnections,
            closed,
          });
        }
        continue;
      }
      void serveConnection(conn, settings, connections, peers, state);
    }
  })();
  // The sweep runs while connections are open, after accepting stopped too.
  void finished.then(() => connections.empty()).then(() => clearInterval(sweep));

  return {
    addr: listener.addr,
    open: () => connections.size,
    peerOf: (internal) => peers.get(internal.port)?.peer ?? null,
    handling: (internal, delta) => peers.get(internal.port)?.handling(delta),
    stopAccepting() {
      state.accepting = false;
      closeQuietly(listener);
    },
    drain() {
      state.draining = true;
      for (const connection of [...connections]) connection.drainIfQuiet();
    },
    closeAll() {
      for (const connection of [...connections]) connection.close();
    },
    allClosed: () => connections.empty(),
    async noneTo(port) {
      while (true) {
        const open = [...connections].filter((c) => c.upstreamPort === port);
        if (open.length === 0) return;
        await Promise.all(open.map((c) => c.closed));
      }
    },
    finished,
  };
}

/** A client connection, as the guard sees it. */
interface Connection {
  readonly peer: string;
  /** The internal server's port it was passed to, once connected. */
  readonly upstreamPort: number | null;
  /** Resolves when it is closed. */
  readonly closed: Promise<void>;
  close(): void;
  /** Closes it soon if the server spoke last and no request of it is being handled. */
  drainIfQuiet(): void;
  handling(delta: 1 | -1): void;
  /** Closes it if a deadline or a write's timeout has passed at `now`. */
  check(now: number): void;
}

/** One client connection: its bytes both ways, under the deadlines of who spoke last. */
async function serveConnection(
  client: Deno.TcpConn,
  settings: GuardSettings,
  connections: ObservedSet<Connection>,
  peers: Map<number, Connection>,
  state: { readonly draining: boolean },
): Promise<void> {
  let upstream: Deno.TcpConn | null = null;
  let internalPort: number | null = null;
  /** The drain's grace timer (rare: only while stopping). */
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When the current deadline passes (the sweep closes the connection then). */
  let dueAt = Infinity;
  /** Since when a write waits to be taken, each way. */
  const toServer = { since: Infinity };
  const toClient = { since: Infinity };
  let closed = false;
  /** Who sent the last bytes; "none" until the server's first. */
  let last: "none" | "client" | "server" = "none";
  /** Requests of this connection the handler is working on. */
  let active = 0;
  // Server bytes are not always an answer (TLS 1.3 session tickets follow the handshake), so a
  // drain also waits for the handler, and gives an answer a moment to arrive in full.
  const quiet = () => last !== "client" && active === 0;
  const closeIfQuiet = () => {
    if (quiet()) connection.close();
  };

  const whenClosed = Promise.withResolvers<void>();
  let upstreamPort: number | null = null;
  const connection: Connection = {
    peer: client.remoteAddr.hostname,
    get upstreamPort() {
      return upstreamPort;
    },
    closed: whenClosed.promise,
    close() {
      if (closed) return;
      closed = true;
      whenClosed.resolve();
      clearTimeout(timer);
      connections.delete(connection);
      if (internalPort !== null) peers.delete(internalPort);
      closeQuietly(client);
      if (upstream !== null) closeQuietly(upstream);
    },
    drainIfQuiet() {
      if (quiet()) later(DRAIN_GRACE_MS, closeIfQuiet);
    },
    handling(delta) {
      active += delta;
      if (active === 0 && state.draining && last !== "client") later(DRAIN_GRACE_MS, closeIfQuiet);
    },
    check(now) {
      const writeDue = Math.min(toServer.since, toClient.since) + settings.writeTimeoutMs;
      if (now >= dueAt || now >= writeDue) connection.close();
    },
  };
  const later = (ms: number, run: () => void) => {
    clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
  const deadline = (ms: number) => {
    dueAt = performance.now() + ms;
  };
  connections.add(connection);
  deadline(settings.handshakeTimeoutMs);

  try {
    upstreamPort = settings.upstreamPort();
    upstream = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
  } catch {
    return connection.close();
  }
  if (closed) return closeQuietly(upstream);
  internalPort = upstream.localAddr.port;
  peers.set(internalPort, connection);
  const up = upstream;

  const fromClient = copy(client, up, toServer, () => {
    // The first unanswered byte starts the exchange's deadline; more bytes do not extend it.
    if (last === "server") deadline(settings.requestTimeoutMs);
    if (last !== "none") last = "client";
  });
  const fromServer = copy(up, client, toClient, () => {
    last = "server";
    if (state.draining) {
      dueAt = Infinity; // the drain decides now
      later(DRAIN_GRACE_MS, closeIfQuiet);
    } else deadline(settings.idleTimeoutMs);
  });
  await Promise.race([fromClient, fromServer]).catch(() => {});
  connection.close();
  await Promise.allSettled([fromClient, fromServer]);
}

/**
 * Copies `from` to `to` until `from` ends; `onData` runs after each chunk was passed on. While
 * a write waits, `writing.since` says since when (the sweep closes a connection whose write is
 * not taken in time, which ends the write).
 */
async function copy(
  from: Deno.Conn,
  to: Deno.Conn,
  writing: { since: number },
  onData: () => void,
): Promise<void> {
  const buffer = new Uint8Array(BUFFER_BYTES);
  for (;;) {
    const n = await from.read(buffer);
    if (n === null) return;
    writing.since = performance.now();
    for (let offset = 0; offset < n;) offset += await to.write(buffer.subarray(offset, n));
    writing.since = Infinity;
    onData();
  }
}

/** A set that can be waited on until it is empty. */
class ObservedSet<T> extends Set<T> {
  #waiting: PromiseWithResolvers<void>[] = [];

  override delete(value: T): boolean {
    const deleted = super.delete(value);
    if (this.size === 0) { for (const w of this.#waiting.splice(0)) w.resolve(); }
    return deleted;
  }

  empty(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    const waiting = Promise.withResolvers<void>();
    this.#waiting.push(waiting);
    return waiting.promise;
  }
}

/** Counts events and says, at most once per period, how many there were since last said. */
class Throttled {
  readonly #periodMs: number;
  #last = -Infinity;
  #count = 0;

  constructor(periodMs: number) {
    this.#periodMs = periodMs;
  }

  /** Counts one; returns the count to report now, or `null` to stay quiet. */
  count(): number | null {
    this.#count++;
    if (performance.now() - this.#last < this.#periodMs) return null;
    this.#last = performance.now();
    const count = this.#count;
    this.#count = 0;
    return count;
  }
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch { /* already closed */ }
}
