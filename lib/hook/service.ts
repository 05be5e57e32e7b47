/**
 * Starts the whole service from a validated config: credentials, database, handler, HTTPS
 * listener; and stops it cleanly (stop accepting, finish requests in flight, commit, close).
 */

import { VERSION } from "../version.ts";
import { join } from "node:path";
import { IssuerKeys, type KeySourceOptions } from "./oauth.ts";
import type { Config } from "../config.ts";
import { openStore } from "../store/open_store.ts";
import { type Logger, messageOf } from "../log.ts";
import { createHandler } from "./routes.ts";
import { type Guard, startGuard } from "./guard.ts";
import { createMetrics, serveMetrics } from "./metrics.ts";
import {
  authCheck,
  DEV_FILES,
  devCertificate,
  devSecret,
  readTls,
  warnIfReadable,
} from "./credentials.ts";
import { delay, InternalServer } from "./internal_server.ts";
import { reloadCertificate, watchCertificate } from "./cert_reload.ts";
import { requestsInFlight } from "./in_flight.ts";
import { refusalRecorder } from "./refusal_recorder.ts";
import { listeningFields, warnIgnoredSettings, warnOwnerFallbacks } from "./start_log.ts";
import { listenError, StartError, storeError, tlsError } from "./start_errors.ts";

/**
 * Every decision is answered within this long of its request's arrival (committed, or a 503):
 * well inside Okta's 3 s, so its one retry fits too.
 */
export const ANSWER_DEADLINE_MS = 1000;
/** How long a group waits for another process's write lock before it fails (503). */
export const BUSY_TIMEOUT_MS = 600;

/** How long one write to a client may wait to be taken before the connection is closed. */
export const WRITE_TIMEOUT_MS = 5000;

/** Options beyond the config: where to keep generated files, and seams for tests. */
export interface ServiceOptions {
  /** Directory for generated development credentials. */
  readonly dataDir: string;
  readonly log: Logger;
  /** How long to wait for another process's write lock, in milliseconds. */
  readonly busyTimeoutMs?: number;
  /** How the OAuth issuer's keys are fetched and timed (tests move the clock). */
  readonly issuerKeys?: KeySourceOptions;
}

/** A running service. */
export interface RunningService {
  /** The bound address (the real port when the config asked for port 0). */
  readonly addr: Deno.NetAddr;
  /** The certificate served, PEM, so local clients can trust it ("" with `TLS=off`). */
  readonly certificate: string;
  /** Stops accepting, lets requests in flight finish, commits, closes the database. */
  stop(): Promise<void>;
  /** Writes the refusals counted so far now, rather than when their minute ends. */
  flushRefusals(): Promise<void>;
  /** Client connections open now. */
  openConnections(): number;
  /** The metrics listener's address, when `METRICS_PORT` is set. */
  readonly metricsAddr: Deno.NetAddr | null;
  /**
   * Reads TLS_CERT_FILE and TLS_KEY_FILE again and serves the new pair to new connections;
   * connections open now finish on the old one. Resolves `false` (and logs why) when the new
   * pair cannot be used: the old one goes on serving.
   */
  reloadCertificate(): Promise<boolean>;
  /** Requests the handler is working on now. */
  requestsInFlight(): number;
  /** Resolves when the handler next begins a request. */
  nextRequest(): Promise<void>;
  /** Resolves once the service has stopped. */
  readonly finished: Promise<void>;
}

/** Starts the service described by `config`; throws a {@link StartError} naming the setting. */
export async function startService(
  config: Config,
  options: ServiceOptions,
): Promise<RunningService> {
  const { log } = options;
  // Counted from the first request on; sources are read when scraped.
  let openConnections = () => 0;
  const metrics = createMetrics(
    { openConnections: () => openConnections(), dbPath: config.dbPath },
    VERSION,
  );
  const generatedCertificate = config.tls === null && !config.plainHttp;
  if (config.authSecrets === null || generatedCertificate) {
    try {
      await Deno.mkdir(options.dataDir, { recursive: true });
    } catch (error) {
      throw new StartError(
        "data directory",
        `Cannot create the data directory "${options.dataDir}" for the generated credentials: ${
          messageOf(error)
        }`,
        { cause: error },
      );
    }
  }
  // With OAuth, a secret is accepted only when configured (HOOK_OAUTH_ACCEPT_SECRET=yes).
  const secrets = config.authSecrets ?? (config.oauth === null ? [await devSecret(options)] : []);
  const issuerKeys = config.oauth === null
    ? null
    : new IssuerKeys(config.oauth.issuer, { log, ...options.issuerKeys });
  const tls = config.plainHttp
    ? null
    : config.tls === null
    ? await devCertificate(options)
    : await readTls(config.tls);

  if (config.tls !== null && !config.plainHttp) {
    await warnIfReadable(config.tls.keyFile, "TLS_KEY_FILE", log);
  }
  if (config.authSecrets === null && config.oauth === null) {
    await warnIfReadable(join(options.dataDir, DEV_FILES.secret), "the hook secret file", log);
  }
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dbPath: config.dbPath,
    strategies: config.strategies,
    personMatch: config.personAttribute === null ? "off" : config.personMatch,
    groupCommitMax: config.groupCommitMax,
    groupCommitWindowMs: config.groupCommitWindowMs,
    answerDeadlineMs: ANSWER_DEADLINE_MS,
    busyTimeoutMs: options.busyTimeoutMs ?? BUSY_TIMEOUT_MS,
  }, {
    onError: (message, error) => log.error(message, error),
    onGroup: (size, committed) => metrics.group(size, committed),
  }).catch((error: unknown) => {
    throw storeError(error, config);
  });
  // Fetched before the first request, so it need not wait; a failure is logged and retried.
  await issuerKeys?.prime();
  const refusals = refusalRecorder(store, log);
  // Set once the guard runs: the internal server sees every client from the guard.
  let peerOf: (internal: Deno.NetAddr) => string | null = () => null;
  let guardHandling: (internal: Deno.NetAddr, delta: 1 | -1) => void = () => {};
  const inFlight = requestsInFlight();
  const handler = createHandler({
    peerOf: (internal) => peerOf(internal),
    countRefusal: refusals.count,
    checkAuth: authCheck(config, secrets, issuerKeys),
    trustedProxies: config.trustedProxies,
    metrics,
    store,
    ownerAttributes: config.ownerAttributes,
    middleNameAttribute: config.middleNameAttribute,
    personAttribute: config.personAttribute,
    log,
    now: () => new Date(),
    nowMs: () => performance.now(),
    // One client connection and one request on it: no one else can be waiting while the store
    // commits this request on this thread. With more connections it waits for a group instead.
    alone: () => openConnections() === 1 && inFlight.count() === 1,
    bodyTimeoutMs: config.connections.bodyTimeoutMs,
  });

  // Deno.serve terminates TLS and speaks HTTP on a loopback port; the guard owns the public
  // listener, its limits and its deadlines, and passes each connection through.
  let server: InternalServer;
  let guard: Guard;
  try {
    server = new InternalServer(
      (pair) =>
        Deno.serve(
          {
            hostname: "127.0.0.1",
            port: 0,
            ...(pair === null ? {} : { cert: pair.cert, key: pair.key }),
            onListen: () => {},
            onError: (error) => {
              log.error("Request failed outside the handler", error);
              return new Response(null, { status: 500 });
            },
          },
          inFlight.track(handler, (info, delta) => {
            if ("hostname" in info.remoteAddr) guardHandling(info.remoteAddr, delta);
          }),
        ),
      tls,
      log,
    );
    try {
      guard = startGuard({
        hostname: config.hostname,
        port: config.port,
        upstreamPort: () => server.port,
        maxConnections: config.connections.max,
        handshakeTimeoutMs: config.connections.handshakeTimeoutMs,
        requestTimeoutMs: config.connections.requestTimeoutMs,
        idleTimeoutMs: config.connections.idleTimeoutMs,
        writeTimeoutMs: WRITE_TIMEOUT_MS,
      }, log);
    } catch (error) {
      await server.shutdown();
      throw listenError(error, config);
    }
  } catch (error) {
    await store.close();
    throw error instanceof StartError ? error : tlsError(error, config);
  }
  peerOf = guard.peerOf;
  openConnections = guard.open;
  let metricsServer: Deno.HttpServer<Deno.NetAddr> | null = null;
  if (config.metrics !== null) {
    try {
      metricsServer = serveMetrics(metrics.registry, config.metrics.hostname, config.metrics.port);
    } catch (error) {
      guard.stopAccepting();
      await server.shutdown();
      await store.close();
      throw new StartError(
        "METRICS_PORT",
        `Cannot listen on METRICS_PORT ${config.metrics.port} at ${config.metrics.hostname}: ${
          messageOf(error)
        }`,
        { cause: error },
      );
    }
  }
  guardHandling = guard.handling;

  if (config.databaseUrl === null) await warnIfReadable(config.dbPath, "DB_PATH", log);
  await warnOwnerFallbacks(config, log);
  warnIgnoredSettings(config, log);
  const finished = server.finished.then(async () => {
    await guard.finished;
    await refusals.flush();
    await store.close();
    log.info("Stopped");
  });
  let stopping: Promise<void> | null = null;
  const stop = () =>
    stopping ??= (async () => {
      guard.stopAccepting();
      // Requests the handler has begun are answered first (Deno's own shutdown would cut a body
      // still arriving); then each connection closes once its server side spoke last. What is
      // still open after the drain time is cut.
      const deadline = delay(config.connections.drainTimeoutMs);
      await Promise.race([inFlight.idle(), deadline]);
      guard.drain();
      await Promise.race([guard.allClosed(), deadline]);
      guard.closeAll();
      await server.shutdown();
      await metricsServer?.shutdown();
      await finished;
    })();
  if (config.tls !== null && !config.plainHttp) {
    watchCertificate(config.tls, () => reloadCertificate(config, server, guard, log), finished);
  }
  const addr = guard.addr;
  log.info("Listening", listeningFields(config, addr, secrets.length, issuerKeys?.stats.keys ?? 0));
  return {
    addr,
    certificate: tls?.cert ?? "",
    finished,
    flushRefusals: refusals.flush,
    metricsAddr: metricsServer?.addr ?? null,
    openConnections: guard.open,
    reloadCertificate: () => reloadCertificate(config, server, guard, log),
    requestsInFlight: inFlight.count,
    nextRequest: inFlight.nextStart,
    stop,
  };
}
