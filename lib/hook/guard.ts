/**
 * The connection guard: the public TLS listener in front of the service's `Deno.serve`, which
 * has no timeouts or connection limits of its own. It accepts connections itself, caps how many
 * are open, gives each a deadline for its TLS handshake, for each request head and for idling
 * between requests, survives every accept error (EMFILE included), and passes each connection's
 * plaintext to the internal `Deno.serve` over a private Unix socket, adding the client's address
 * to each request head (lib/hook/framing.ts). HTTP/1.1 only: ALPN offers nothing else.
 */

import type { Logger } from "../log.ts";
import { type FramingRefusal, requestFraming, responseFraming } from "./framing.ts";

/** Limits and deadlines, in milliseconds; see the README's "Connections" settings. */
export interface GuardLimits {
  /** Connections open at once; more are closed as soon as they are accepted. */
  readonly maxConnections: number;
  /** From accept to a finished TLS handshake. */
  readonly handshakeTimeoutMs: number;
  /** From the handshake (first request) or a head's first byte to its end. */
  readonly headTimeoutMs: number;
  /** From a head's end to its body's end; the handler answers a stalled body 408 before this. */
  readonly bodyTimeoutMs: number;
  /** Between one request's end and the next request's first byte. */
  readonly idleTimeoutMs: number;
  /** For one write to the client to be taken: a client that never reads is closed. */
  readonly writeTimeoutMs: number;
}

/** Where to listen, what to serve, and where the internal server listens. */
export interface GuardSettings extends GuardLimits {
  readonly hostname: string;
  readonly port: number;
  readonly cert: string;
  readonly key: string;
  /** The internal `Deno.serve`'s Unix socket. */
  readonly upstream: string;
}

/** A running guard. */
export interface Guard {
  readonly addr: Deno.NetAddr;
  /** Connections open now. */
  readonly open: () => number;
  /** Stops accepting and closes connections still waiting for a handshake. */
  stopAccepting(): void;
  /**
   * Closes each connection as soon as nothing is outstanding on it (every request answered); one
   * that starts another request meanwhile is closed instead (Okta retries elsewhere).
   */
  drain(): void;
  /** Closes every connection at once: the end of a drain that ran out of time. */
  closeAll(): void;
  /** Resolves once no connection is open. */
  allClosed(): Promise<void>;
  /** Resolves when the accept loop has ended. */
  readonly finished: Promise<void>;
}

const BUFFER_BYTES = 16 * 1024;
/** Accept errors (EMFILE) are logged at most this often; the loop waits and goes on. */
const ACCEPT_ERROR_LOG_MS = 10_000;

/** Starts listening; throws as `Deno.listenTls` does (address in use, permission). */
export function startGuard(settings: GuardSettings, log: Logger): Guard {
  const listener = Deno.listenTls({
    hostname: settings.hostname,
    port: settings.port,
    cert: settings.cert,
    key: settings.key,
    alpnProtocols: ["http/1.1"],
  });
  const connections = new ObservedSet<Connection>();
  const draining = { on: false };
  let accepting = true;
  let over = 0;
  let lastOverLog = -Infinity;

  const finished = (async () => {
    let backoffMs = 10;
    let errors = 0;
    let lastErrorLog = -Infinity;
    while (accepting) {
      let conn: Deno.TlsConn;
      try {
        conn = await listener.accept();
        backoffMs = 10;
      } catch (error) {
        if (!accepting || error instanceof Deno.errors.BadResource) break;
        // Out of descriptors or a connection reset before accept: wait a little, go on.
        errors++;
        if (performance.now() - lastErrorLog >= ACCEPT_ERROR_LOG_MS) {
          log.error("Cannot accept connections; retrying", error, { errors });
          lastErrorLog = performance.now();
          errors = 0;
        }
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 1000);
        continue;
      }
      if (connections.size >= settings.maxConnections) {
        over++;
        if (performance.now() - lastOverLog >= ACCEPT_ERROR_LOG_MS) {
          log.warn("Connection limit reached: closing new connections", {
            open: connections.size,
            limit: settings.maxConnections,
            closed: over,
          });
          lastOverLog = performance.now();
          over = 0;
        }
        closeQuietly(conn);
        continue;
      }
      void serveConnection(conn, settings, connections, draining);
    }
  })();

  return {
    addr: listener.addr,
    open: () => connections.size,
    stopAccepting() {
      accepting = false;
      closeQuietly(listener);
      for (const connection of [...connections]) if (connection.handshaking()) connection.close();
    },
    drain() {
      draining.on = true;
      for (const connection of [...connections]) connection.drain();
    },
    closeAll() {
      for (const connection of [...connections]) connection.close();
    },
    allClosed: () => connections.empty(),
    finished,
  };
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

/**
 * One client connection: handshake, then its bytes both ways, framed in both directions so it
 * knows when nothing is outstanding (every request read and answered). Deadlines: the
 * handshake; the first head from the handshake, a later head from its first byte; a body
 * (backstop: the handler answers a stall 408 first); and idling while nothing is outstanding.
 * Waiting for an answer has no deadline here: the store answers within a second.
 */
async function serveConnection(
  conn: Deno.TlsConn,
  settings: GuardSettings,
  connections: ObservedSet<Connection>,
  draining: { readonly on: boolean },
): Promise<void> {
  let upstream: Deno.UnixConn | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let handshaken = false;
  const methods: string[] = [];
  const requests = requestFraming(conn.remoteAddr.hostname, methods);
  const responses = responseFraming(methods);
  let sent = 0;
  let answered = 0;
  const quiet = () => requests.idle && responses.idle && sent === answered;

  const self: Connection = {
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      connections.delete(self);
      closeQuietly(conn);
      if (upstream !== null) closeQuietly(upstream);
    },
    handshaking: () => !handshaken,
    // Stopping: a connection with nothing outstanding closes now, the others once answered.
    drain: () => {
      if (quiet()) self.close();
    },
  };
  const deadline = (ms: number | null) => {
    clearTimeout(timer);
    if (ms !== null) timer = setTimeout(self.close, ms);
  };
  connections.add(self);

  deadline(settings.handshakeTimeoutMs);
  try {
    await conn.handshake();
    handshaken = true;
    if (closed) return;
    deadline(settings.headTimeoutMs);
    upstream = await Deno.connect({ transport: "unix", path: settings.upstream });
    if (closed) return closeQuietly(upstream);
  } catch {
    return self.close();
  }
  const up = upstream;

  const back = (async () => {
    const buffer = new Uint8Array(BUFFER_BYTES);
    for (;;) {
      const n = await up.read(buffer);
      if (n === null) return;
      const step = responses.push(buffer.subarray(0, n));
      for (const part of step.forward) await writeAll(conn, part, settings.writeTimeoutMs);
      answered += step.messagesEnded;
      if (quiet()) {
        if (draining.on) return;
        deadline(settings.idleTimeoutMs);
      }
    }
  })().catch(() => {}).finally(self.close);

  const buffer = new Uint8Array(BUFFER_BYTES);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      // Stopping: no new request is started; the connection closes and Okta retries.
      if (draining.on && requests.idle) break;
      const wasInHead = requests.inHead;
      const step = requests.push(buffer.subarray(0, n));
      for (const part of step.forward) await writeAll(up, part, settings.writeTimeoutMs);
      if (step.refusal !== null) {
        await writeAll(conn, refusalResponse(step.refusal), settings.writeTimeoutMs);
        break;
      }
      sent += step.messagesEnded;
      if (requests.inHead) {
        // A later request's head: its deadline runs from its first byte.
        if (!wasInHead && sent > 0) deadline(settings.headTimeoutMs);
      } else if (!requests.idle) {
        if (wasInHead || step.headStarted || step.messagesEnded > 0) {
          deadline(settings.bodyTimeoutMs + 1000);
        }
      } else if (step.messagesEnded > 0) {
        deadline(quiet() ? settings.idleTimeoutMs : null);
      }
    }
  } catch {
    // A reset, a write timeout or a closed upstream: the connection is over.
  }
  self.close();
  await back;
}

/** A client connection, as the guard's stop sees it. */
interface Connection {
  close(): void;
  /** True until its TLS handshake is done. */
  handshaking(): boolean;
  /** Closes it once nothing is outstanding. */
  drain(): void;
}

/** Writes all of `bytes`, or throws when one write is not taken within `timeoutMs`. */
async function writeAll(to: Deno.Conn, bytes: Uint8Array, timeoutMs: number): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Deno.errors.TimedOut("write")), timeoutMs);
    });
    try {
      offset += await Promise.race([to.write(bytes.subarray(offset)), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The guard's own answer to a request it cannot frame, in Okta's error shape. */
function refusalResponse(refusal: FramingRefusal): Uint8Array {
  const body = JSON.stringify({ error: { errorSummary: refusal.reason } });
  const text = refusal.status === 431 ? "Request Header Fields Too Large" : "Bad Request";
  return new TextEncoder().encode(
    `HTTP/1.1 ${refusal.status} ${text}\r\ncontent-type: application/json\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch { /* already closed */ }
}
