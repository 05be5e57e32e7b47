/**
 * The serving thread without the database, for `deno task bench` and docs/performance.md: the
 * service's real request handler (auth, body with its deadline, zod, event, reply, log line,
 * metrics) over the same TLS as the service, with a store that answers every decision at once
 * ("unchanged", 204) instead of the database worker. With `--guard` it sits behind the service's
 * connection guard (lib/hook/guard.ts, the service's default limits), as the service's handler
 * does; without it `Deno.serve` listens on PORT itself. What it serves is what the serving thread
 * can do with no database at all, and the two side by side give the guard's cost.
 *
 * With `--append=FILE` each decision instead appends {@link APPEND_BYTES} to FILE and fdatasyncs
 * it, synchronously on this thread, before it is answered: what the service writes and syncs for
 * a request alone on its connection, without deciding anything. That is the floor of the
 * service's one-connection path.
 *
 * Usage: deno run --v8-flags=--max-semi-space-size=2 --allow-net=127.0.0.1 --allow-read \
 *   [--allow-write=FILE] bench/pipeline_server.ts PORT CERT_FILE KEY_FILE SECRET [--guard]
 *   [--append=FILE] > /dev/null
 */

import { createSecretCheck } from "../lib/hook/auth.ts";
import { parseConfig } from "../lib/config.ts";
import type { Decided } from "../lib/decision/decide_event.ts";
import { startGuard } from "../lib/hook/guard.ts";
import { createLogger } from "../lib/log.ts";
import { createMetrics } from "../lib/hook/metrics.ts";
import { createHandler } from "../lib/hook/routes.ts";
import { WRITE_TIMEOUT_MS } from "../lib/hook/service.ts";
import { serveTlsUntilTerm } from "./_tls_server.ts";

/**
 * The WAL bytes of one decision committed on its own (`bench/commit_loop.ts --group=1
 * --autocheckpoint=0`: 36.4 KiB; eight or nine 4 KiB pages of six B-trees and the header).
 */
const APPEND_BYTES = 36 * 1024;

const [port, certFile, keyFile, secret, ...flags] = Deno.args;
if (port === undefined || certFile === undefined || keyFile === undefined || !secret) {
  throw new TypeError(
    "Usage: pipeline_server.ts PORT CERT_FILE KEY_FILE SECRET [--guard] [--append=FILE]",
  );
}
const appendTo = flags.find((flag) => flag.startsWith("--append="))?.slice("--append=".length);

const unchanged: Decided = {
  reply: { status: 204, body: null },
  outcome: "unchanged",
  strategy: null,
  replayed: false,
  eventIdReused: false,
};
const { connections } = parseConfig({});
const log = createLogger();
const decide = appendTo === undefined ? () => Promise.resolve(unchanged) : appendAndSync(appendTo);
const handler = createHandler({
  checkAuth: createSecretCheck([secret], "authorization"),
  store: {
    decide,
    recordRejection: () => Promise.resolve(),
    health: () => Promise.resolve({ ok: true as const }),
  },
  ownerAttributes: ["employeeId"],
  middleNameAttribute: "middleName",
  log,
  metrics: createMetrics({ openConnections: () => 0, dbPath: certFile }, "bench"),
  now: () => new Date(),
  nowMs: () => performance.now(),
  bodyTimeoutMs: connections.bodyTimeoutMs,
});

if (flags.includes("--guard")) {
  // As the service wires it: Deno.serve on a loopback port, the guard on PORT in front of it.
  const inner = await new Promise<number>((listening) => {
    serveTlsUntilTerm("0", certFile, keyFile, handler, (addr) => listening(addr.port));
  });
  const guard = startGuard({
    hostname: "127.0.0.1",
    port: Number(port),
    upstreamPort: () => inner,
    maxConnections: connections.max,
    handshakeTimeoutMs: connections.handshakeTimeoutMs,
    requestTimeoutMs: connections.requestTimeoutMs,
    idleTimeoutMs: connections.idleTimeoutMs,
    writeTimeoutMs: WRITE_TIMEOUT_MS,
  }, log);
  Deno.addSignalListener("SIGTERM", () => {
    guard.stopAccepting();
    guard.closeAll();
  });
} else {
  await serveTlsUntilTerm(port, certFile, keyFile, handler);
}

/** A store that writes and syncs what a lone decision does, synchronously, then answers. */
function appendAndSync(path: string): () => Promise<Decided> {
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const bytes = new Uint8Array(APPEND_BYTES).fill(0x5a);
  let written = 0;
  return () => {
    // Wrapped around like the WAL is restarted at a checkpoint, so the file stays small.
    if (written > 64 * 1024 * 1024) {
      file.truncateSync(0);
      file.seekSync(0, Deno.SeekMode.Start);
      written = 0;
    }
    for (let offset = 0; offset < bytes.length;) offset += file.writeSync(bytes.subarray(offset));
    written += bytes.length;
    file.syncDataSync();
    return Promise.resolve(unchanged);
  };
}
