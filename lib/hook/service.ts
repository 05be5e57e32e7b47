/**
 * Starts the whole service from a validated config: credentials, database, handler, HTTPS
 * listener; and stops it cleanly (stop accepting, finish requests in flight, commit, close).
 */

import { join } from "node:path";
import { type AuthCheck, createSecretCheck, eitherCheck } from "./auth.ts";
import { createTokenCheck, IssuerKeys, type KeySourceOptions } from "./oauth.ts";
import { type Config, redactedUrl } from "../config.ts";
import type { DecisionStore } from "../store/decision_store.ts";
import { openStore } from "../store/open_store.ts";
import type { RejectionRecord } from "../decision/records.ts";
import { RefusalCounter } from "./refusals.ts";
import { ensureDevCertificate, ensureDevSecret, type TlsPair } from "./dev_credentials.ts";
import { type Logger, messageOf } from "../log.ts";
import { createHandler, type Handler } from "./routes.ts";
import { type Guard, startGuard } from "./guard.ts";
import { createMetrics, serveMetrics } from "./metrics.ts";

/** Where generated development files go, relative to the data directory. */
export const DEV_FILES = {
  secret: "hook-secret",
  cert: "dev-cert.pem",
  key: "dev-key.pem",
} as const;

/**
 * Every decision is answered within this long of its request's arrival (committed, or a 503):
 * well inside Okta's 3 s, so its one retry fits too.
 */
export const ANSWER_DEADLINE_MS = 1000;
/** How long a group waits for another process's write lock before it fails (503). */
export const BUSY_TIMEOUT_MS = 600;

/** The version reported in `okta_hook_build_info`. */
export const SERVICE_VERSION = "1.0.0";

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

/** The service cannot start: `setting` names what to fix, the message says why. */
export class StartError extends Error {
  override name = "StartError";
  /** The environment variable (or directory) at fault. */
  readonly setting: string;

  constructor(setting: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.setting = setting;
  }
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
    SERVICE_VERSION,
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
  const store = await openStoreNaming(config, () =>
    openStore({
      databaseUrl: config.databaseUrl,
      dbPath: config.dbPath,
      strategies: config.strategies,
      groupCommitMax: config.groupCommitMax,
      groupCommitWindowMs: config.groupCommitWindowMs,
      answerDeadlineMs: ANSWER_DEADLINE_MS,
      busyTimeoutMs: options.busyTimeoutMs ?? BUSY_TIMEOUT_MS,
    }, {
      onError: (message, error) => log.error(message, error),
      onGroup: (size, committed) => metrics.group(size, committed),
    }));
  // Fetched before the first request, so it need not wait; a failure is logged and retried.
  await issuerKeys?.prime();
  const refusals = refusalRecorder(store, log);
  // Set once the guard runs: the internal server sees every client from the guard.
  let peerOf: (internal: Deno.NetAddr) => string | null = () => null;
  let guardHandling: (internal: Deno.NetAddr, delta: 1 | -1) => void = () => {};
  const handler = createHandler({
    peerOf: (internal) => peerOf(internal),
    countRefusal: refusals.count,
    checkAuth: authCheck(config, secrets, issuerKeys),
    trustedProxies: config.trustedProxies,
    metrics,
    store,
    ownerAttribute: config.ownerAttribute,
    middleNameAttribute: config.middleNameAttribute,
    log,
    now: () => new Date(),
    nowMs: () => performance.now(),
    bodyTimeoutMs: config.connections.bodyTimeoutMs,
  });

  // Deno.serve terminates TLS and speaks HTTP on a loopback port; the guard owns the public
  // listener, its limits and its deadlines, and passes each connection through.
  const inFlight = requestsInFlight();
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
  log.info("Listening", {
    url: `${config.plainHttp ? "http" : "https"}://${
      displayHost(addr.hostname)
    }:${addr.port}/hooks/import`,
    tls: config.plainHttp ? "off: a proxy in front terminates TLS" : "on",
    db: config.databaseUrl === null ? config.dbPath : redactedUrl(config.databaseUrl),
    auth: config.oauth === null
      ? "header secret"
      : config.oauth.acceptSecret
      ? "OAuth bearer token or header secret (switching over)"
      : "OAuth bearer token",
    ...(config.oauth === null ? {} : {
      issuer: config.oauth.issuer,
      audience: config.oauth.audience,
      issuerKeys: issuerKeys?.stats.keys ?? 0,
    }),
    ...(secrets.length === 0 ? {} : { authHeader: config.authHeader, secrets: secrets.length }),
    ownerAttribute: config.ownerAttribute,
    strategies: config.strategies.join(","),
  });
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

async function devSecret(options: ServiceOptions): Promise<string> {
  const path = join(options.dataDir, DEV_FILES.secret);
  const { value, created } = await ensureDevSecret(path);
  options.log.info(
    created ? "Generated a development hook secret" : "Using the development hook secret",
    { file: path, hint: "Set HOOK_AUTH_SECRET in production" },
  );
  return value;
}

async function devCertificate(options: ServiceOptions): Promise<TlsPair> {
  const cert = join(options.dataDir, DEV_FILES.cert);
  const key = join(options.dataDir, DEV_FILES.key);
  const { value, created } = await ensureDevCertificate(cert, key);
  options.log.info(
    created
      ? "Generated a self-signed development certificate"
      : "Using the self-signed development certificate",
    {
      cert,
      key,
      hint: "Okta needs a publicly trusted certificate: set TLS_CERT_FILE and TLS_KEY_FILE",
    },
  );
  return value;
}

async function readTls(files: { certFile: string; keyFile: string }): Promise<TlsPair> {
  return {
    cert: await readSetting(files.certFile, "TLS_CERT_FILE"),
    key: await readSetting(files.keyFile, "TLS_KEY_FILE"),
  };
}

async function readSetting(path: string, variable: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new StartError(variable, `Cannot read ${variable}: "${path}": ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** Opens the store, saying which setting to fix when it cannot be opened. */
async function openStoreNaming(
  config: Config,
  open: () => Promise<DecisionStore>,
): Promise<DecisionStore> {
  try {
    return await open();
  } catch (error) {
    const text = messageOf(error);
    const why = /NotFound|No such file/.test(text)
      ? "its directory does not exist"
      : /PermissionDenied|Permission denied|readonly|unable to open/i.test(text)
      ? "it cannot be created or opened here (is the directory writable by this user?)"
      : text;
    if (config.databaseUrl !== null) {
      throw new StartError(
        "DATABASE_URL",
        `Cannot use DATABASE_URL ${redactedUrl(config.databaseUrl)}: ${text}`,
        { cause: error },
      );
    }
    throw new StartError("DB_PATH", `Cannot open DB_PATH "${config.dbPath}": ${why}`, {
      cause: error,
    });
  }
}

/** The setting at fault when the certificate and key cannot be served. */
function tlsError(error: unknown, config: Config): StartError {
  const text = messageOf(error);
  const [setting, why] = /No certificates found/.test(text)
    ? ["TLS_CERT_FILE", "holds no PEM certificate"]
    : /No keys found/.test(text)
    ? ["TLS_KEY_FILE", "holds no PEM private key"]
    : /KeyMismatch|keys may not be consistent/.test(text)
    ? ["TLS_KEY_FILE", "does not match the certificate in TLS_CERT_FILE"]
    : ["TLS_CERT_FILE", `cannot be served: ${text}`];
  const file = setting === "TLS_KEY_FILE" ? config.tls?.keyFile : config.tls?.certFile;
  return new StartError(setting, `Cannot use ${setting} "${file ?? "(generated)"}": it ${why}`, {
    cause: error,
  });
}

/** The setting at fault when the public port cannot be opened. */
function listenError(error: unknown, config: Config): StartError {
  const { port, hostname } = config;
  if (error instanceof Deno.errors.PermissionDenied) {
    return new StartError(
      "PORT",
      `Cannot listen on PORT ${port}: permission denied (a port below 1024 needs root or ` +
        "CAP_NET_BIND_SERVICE, e.g. AmbientCapabilities= in the systemd unit)",
      { cause: error },
    );
  }
  if (error instanceof Deno.errors.AddrInUse) {
    return new StartError("PORT", `Cannot listen on PORT ${port}: it is in use on ${hostname}`, {
      cause: error,
    });
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new StartError(
      "HOSTNAME",
      `Cannot listen on HOSTNAME "${hostname}": not an address of this machine`,
      {
        cause: error,
      },
    );
  }
  if (error instanceof URIError || /lookup address|invalid host/.test(messageOf(error))) {
    return new StartError(
      "HOSTNAME",
      `Cannot listen on HOSTNAME "${hostname}": it cannot be resolved`,
      {
        cause: error,
      },
    );
  }
  return new StartError("PORT", `Cannot listen on ${hostname}:${port}: ${messageOf(error)}`, {
    cause: error,
  });
}

/**
 * The internal `Deno.serve`, started again whenever it stops by itself: its accept loop ends
 * for good on an accept error (EMFILE when descriptors run out), which would otherwise end the
 * process. A new one listens on a new loopback port, which the guard reads for each connection.
 */
class InternalServer {
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

/**
 * Reloads when the certificate or key file changes (an ACME client renewing them), a moment
 * after the last change so that both files are written. Renewals often replace the files, which
 * ends a watch: it is set up again after each change.
 */
function watchCertificate(
  files: { certFile: string; keyFile: string },
  reload: () => Promise<boolean>,
  until: Promise<void>,
): void {
  let stopped = false;
  let watcher: Deno.FsWatcher | null = null;
  void until.then(() => {
    stopped = true;
    watcher?.close();
  });
  void (async () => {
    while (!stopped) {
      let changed = false;
      try {
        watcher = Deno.watchFs([files.certFile, files.keyFile], { recursive: false });
        for await (const event of watcher) {
          if (event.kind === "access") continue;
          changed = true;
          break;
        }
        watcher.close();
      } catch {
        // A file is missing mid-renewal: look again shortly.
      }
      if (stopped) return;
      await delay(500);
      if (changed && !stopped) await reload();
    }
  })();
}

async function reloadCertificate(
  config: Config,
  server: InternalServer,
  guard: Guard,
  log: Logger,
): Promise<boolean> {
  if (config.tls === null || config.plainHttp) {
    log.warn("Not reloading: the service has no certificate files (generated, or TLS=off)", {
      hint: "set TLS_CERT_FILE and TLS_KEY_FILE",
    });
    return false;
  }
  try {
    const pair = await readTls(config.tls);
    try {
      server.reload(pair, (port) => guard.noneTo(port));
    } catch (error) {
      throw tlsError(error, config);
    }
    log.info("Serving the new certificate to new connections", {
      cert: config.tls.certFile,
      key: config.tls.keyFile,
    });
    return true;
  } catch (error) {
    log.error("Cannot load the new certificate; the old one goes on serving", error, {
      setting: error instanceof StartError ? error.setting : "TLS_CERT_FILE",
    });
    return false;
  }
}

/** Counts the handler's requests in flight, so a stop can wait until none is. */
function requestsInFlight() {
  let count = 0;
  let idle: PromiseWithResolvers<void> | null = null;
  let started: PromiseWithResolvers<void> | null = null;
  return {
    track(
      handler: Handler,
      onConnection: (info: Deno.ServeHandlerInfo, delta: 1 | -1) => void,
    ): Handler {
      return async (request, info) => {
        count++;
        onConnection(info, 1);
        started?.resolve();
        started = null;
        try {
          return await handler(request, info);
        } finally {
          onConnection(info, -1);
          if (--count === 0) {
            idle?.resolve();
            idle = null;
          }
        }
      };
    },
    count: () => count,
    idle(): Promise<void> {
      if (count === 0) return Promise.resolve();
      idle ??= Promise.withResolvers();
      return idle.promise;
    },
    nextStart(): Promise<void> {
      started ??= Promise.withResolvers();
      return started.promise;
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const id = setTimeout(resolve, ms);
    Deno.unrefTimer(id);
  });
}

/**
 * Counts unauthenticated refusals (see {@link RefusalCounter}) and writes each minute's rows when
 * the minute is over, or at stop. The first refusal of a kind in a minute is a warn line at once;
 * the minute's count follows in another when there were more.
 */
function refusalRecorder(store: DecisionStore, log: Logger) {
  const counter = new RefusalCounter();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = async (rows: readonly RejectionRecord[]) => {
    for (const row of rows) {
      if ((row.count ?? 1) > 1) {
        log.warn("Refused requests without valid credentials", {
          count: row.count,
          status: row.status,
          reason: row.reason,
          remoteAddr: row.remoteAddr,
          since: row.receivedAt,
        });
      }
    }
    await Promise.all(
      rows.map((row) =>
        store.recordRejection(row).catch((error) =>
          log.error("Could not record refusals", error, { count: row.count })
        )
      ),
    );
  };
  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    await write(counter.flush());
  };
  return {
    flush,
    count(record: RejectionRecord): void {
      const { first, done } = counter.add(record);
      if (done.length > 0) void write(done);
      if (first) {
        log.warn("Refused a request without valid credentials", {
          status: record.status,
          reason: record.reason,
          remoteAddr: record.remoteAddr,
        });
      }
      if (timer === undefined) {
        // Just after the minute ends, so its rows are written even if no request follows.
        const id = setTimeout(flush, 60_050 - (Date.parse(record.receivedAt) % 60_000));
        Deno.unrefTimer(id);
        timer = id;
      }
    },
  };
}

/** The check `config` asks for: the header secret, OAuth bearer tokens, or either. */
function authCheck(
  config: Config,
  secrets: readonly string[],
  keys: IssuerKeys | null,
): AuthCheck {
  if (config.oauth === null || keys === null) return createSecretCheck(secrets, config.authHeader);
  const tokens = createTokenCheck(config.oauth, keys);
  return config.oauth.acceptSecret
    ? eitherCheck(createSecretCheck(secrets, config.authHeader), tokens)
    : tokens;
}

/** Logs a warning when `path` (a key, a secret, the logins) can be read by others than its owner. */
async function warnIfReadable(path: string, what: string, log: Logger): Promise<void> {
  let mode: number | null;
  try {
    mode = (await Deno.stat(path)).mode;
  } catch {
    return; // A missing file is reported where it is read.
  }
  if (mode === null || (mode & 0o044) === 0) return;
  log.warn(`${what} can be read by other users`, {
    file: path,
    mode: `0${(mode & 0o777).toString(8)}`,
    hint: `chmod 600 ${path}`,
  });
}

function displayHost(hostname: string): string {
  if (hostname === "0.0.0.0" || hostname === "::") return "localhost";
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
