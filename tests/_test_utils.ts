/**
 * Test helpers: a real service over HTTPS on loopback with a real SQLite file in a temporary
 * directory under data/, Okta-shaped request builders, and assertions on Okta-shaped replies.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type Config, parseConfig, type RawEnv } from "../lib/config.ts";
import { openDatabase } from "../lib/store/database.ts";
import { silentLogger } from "../lib/log.ts";
import type { HookEvent } from "../lib/decision/hook_event.ts";
import { LoginIndex } from "../lib/store/sqlite_login_index.ts";
import type { DecisionRecord, Reservation } from "../lib/decision/records.ts";
import { type RunningService, startService } from "../lib/hook/service.ts";
import type { KeySourceOptions } from "../lib/hook/oauth.ts";

/** The secret test servers accept. */
export const TEST_SECRET = "test-secret-0123456789abcdef";

/**
 * Resolves as `promise` does, or rejects after `ms` naming `what`: every wait in a test has a
 * deadline, so a child that dies fails the test instead of hanging the suite.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Makes a temporary directory under data/ (the only place tests may write). */
export async function makeTempDir(prefix = "test-"): Promise<string> {
  await Deno.mkdir("data/tmp", { recursive: true });
  return await Deno.makeTempDir({ dir: "data/tmp", prefix });
}

/** Runs `test` with a fresh temporary directory under data/tmp, removed afterwards. */
export async function withTempDir<T>(
  prefix: string,
  test: (dir: string) => T | Promise<T>,
): Promise<T> {
  const dir = await makeTempDir(prefix);
  try {
    return await test(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `test` with a fresh migrated database `hook.db` in a temporary directory. */
export function withDatabase<T>(
  prefix: string,
  test: (db: DatabaseSync, dir: string) => T | Promise<T>,
): Promise<T> {
  return withTempDir(prefix, async (dir) => {
    const db = openDatabase(`${dir}/hook.db`);
    try {
      return await test(db, dir);
    } finally {
      if (db.isOpen) db.close();
    }
  });
}

/** A CREATE_USER event for john.smith from app user E1 (middle name Alexander), with `fields`. */
export function hookEvent(fields: Partial<HookEvent> = {}): HookEvent {
  return {
    eventId: "evt-1",
    jobId: "job-1",
    appId: "0oaApp",
    action: "CREATE_USER",
    login: "john.smith@example.com",
    oktaReportsConflict: false,
    owner: JSON.stringify(["0oaApp", "externalId", "E1"]),
    externalId: "E1",
    ownerSource: "attribute",
    ownerAttribute: "externalId",
    middleName: "Alexander",
    oktaUserId: null,
    person: null,
    ...fields,
  };
}

/** A reservation of `login` as a seed makes it (held by no one), with `fields` changed. */
export function reservation(login: string, fields: Partial<Reservation> = {}): Reservation {
  return {
    login,
    owner: null,
    requestedKey: null,
    strategy: "seed",
    source: "seed",
    eventId: null,
    at: "2026-01-01T00:00:00.000Z",
    ...fields,
  };
}

/** Runs `test` with a fresh migrated database file under data/tmp and its login index. */
export function withIndex(
  test: (index: LoginIndex, db: DatabaseSync) => void,
): Promise<void> {
  return withDatabase("index-", (db) => test(new LoginIndex(db), db));
}

/** A running test service and a client that trusts its certificate. */
export interface TestServer {
  readonly url: string;
  readonly dir: string;
  readonly dbPath: string;
  readonly config: Config;
  readonly service: RunningService;
  /** POSTs `body` to the hook with the test secret unless `headers` says otherwise. */
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A separate read connection to the database, closed with the server. */
  db(): DatabaseSync;
  close(): Promise<void>;
}

/** Options for {@link startTestServer}. */
export interface TestServerOptions {
  readonly env?: RawEnv;
  readonly dir?: string;
  readonly busyTimeoutMs?: number;
  readonly issuerKeys?: KeySourceOptions;
}

/** Starts the real service on 127.0.0.1 with a port the OS picks and a fresh database. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = options.dir ?? await makeTempDir();
  const config = parseConfig({
    PORT: "1",
    BIND_ADDRESS: "127.0.0.1",
    // With OAuth the secret is accepted only when the test says so.
    ...(options.env?.HOOK_OAUTH_ISSUER === undefined ? { HOOK_AUTH_SECRET: TEST_SECRET } : {}),
    DB_PATH: `${dir}/hook.db`,
    ...options.env,
  });
  const service = await startService({ ...config, port: 0 }, {
    dataDir: dir,
    log: silentLogger,
    ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    ...(options.issuerKeys === undefined ? {} : { issuerKeys: options.issuerKeys }),
  });
  const client = Deno.createHttpClient({ caCerts: [service.certificate] });
  const url = `https://localhost:${service.addr.port}`;
  const connections: DatabaseSync[] = [];
  const server: TestServer = {
    url,
    dir,
    dbPath: config.dbPath,
    config,
    service,
    fetch: (path, init = {}) => fetch(`${url}${path}`, { ...init, client }),
    post: (body, headers = {}) =>
      server.fetch("/hooks/import", {
        method: "POST",
        headers: { authorization: TEST_SECRET, "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    db() {
      const db = new DatabaseSync(config.dbPath);
      db.exec("PRAGMA busy_timeout = 5000");
      connections.push(db);
      return db;
    },
    async close() {
      for (const db of connections) if (db.isOpen) db.close();
      await service.stop();
      client.close();
      if (options.dir === undefined) await Deno.remove(dir, { recursive: true });
    },
  };
  return server;
}

/** Reads a request fixture from tests/fixtures (copies of the shared Okta-shaped payloads). */
export function fixture(name: string): HookBody {
  const file = new URL(`./fixtures/${name}`, import.meta.url);
  return JSON.parse(Deno.readTextFileSync(file));
}

/** A hook request body, loosely typed for tests to edit. */
// deno-lint-ignore no-explicit-any
export type HookBody = any;

/** Counter so every built request gets a fresh eventId. */
let nextEvent = 0;

/** Options for {@link makeHookRequest}. */
export interface HookRequestOptions {
  readonly login: string;
  readonly externalId?: string | null;
  readonly middleName?: string | null;
  readonly conflicts?: string[];
  readonly action?: string;
  readonly eventId?: string;
  readonly jobId?: string;
  readonly appId?: string;
}

/** An Okta-shaped import request for one user, built from fixture 01. */
export function makeHookRequest(options: HookRequestOptions): HookBody {
  const body = fixture("01-create-user-no-conflict.json");
  body.eventId = options.eventId ?? `evt-${Date.now()}-${nextEvent++}`;
  body.data.context.conflicts = options.conflicts ?? [];
  body.data.context.job.id = options.jobId ?? "job-1";
  body.data.context.application.id = options.appId ?? "0oaTestApp";
  body.data.action.result = options.action ?? "CREATE_USER";
  const app = body.data.appUser.profile;
  const user = body.data.user.profile;
  app.userName = user.login = user.email = options.login;
  if (options.externalId === null) delete app.employeeId;
  else app.employeeId = options.externalId ?? `ext-${nextEvent++}`;
  if (options.middleName === undefined) return body;
  app.middleName = options.middleName;
  delete user.middleName;
  return body;
}

/** Asserts a 200 reply that sets the login to `login`, and returns it. */
export async function assertLoginChanged(response: Response, login: string): Promise<unknown> {
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  const body = await response.json();
  assert.deepEqual(body.commands, [
    { type: "com.okta.user.profile.update", value: { login } },
  ]);
  return body;
}

/** Asserts the 204, empty-body "change nothing" reply. */
export async function assertUnchanged(response: Response): Promise<void> {
  assert.equal(response.status, 204);
  assert.equal(await response.text(), "");
}

/** Asserts an Okta error reply with `status` and `summary`, and returns its causes. */
export async function assertOktaError(
  response: Response,
  status: number,
  summary: string | RegExp,
): Promise<Record<string, string>[]> {
  assert.equal(response.status, status);
  assert.equal(response.headers.get("content-type"), "application/json");
  const body = await response.json();
  if (typeof summary === "string") assert.equal(body.error.errorSummary, summary);
  else assert.match(body.error.errorSummary, summary);
  return body.error.errorCauses ?? [];
}

/**
 * Sends `head` (and `body`) as raw bytes over a new TLS connection to `server` and returns what
 * came back until the server closed the connection: for requests `fetch` will not send (a
 * malformed Host, a raw target). Waits at most `ms`.
 */
export async function rawExchange(
  server: Pick<TestServer, "service">,
  head: string,
  body: Uint8Array | string = "",
  ms = 5_000,
): Promise<string> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.service.addr.port,
    caCerts: [server.service.certificate],
    alpnProtocols: ["http/1.1"],
  });
  try {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    await conn.write(new TextEncoder().encode(head));
    if (bytes.length > 0) await conn.write(bytes);
    return await withDeadline(readUntilClosed(conn), ms, "the server to answer and close");
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

/** The status code of a raw HTTP/1.1 response. */
export function rawStatus(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

/** Everything `conn` sends until it is closed (or reset), as text. */
export async function readUntilClosed(conn: Deno.Conn): Promise<string> {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(16 * 1024);
  for (;;) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return chunks.join("") + decoder.decode();
    chunks.push(decoder.decode(buffer.subarray(0, n), { stream: true }));
  }
}

/** The head of a request for the hook with the test secret, `length` bytes of JSON to follow. */
export function hookHead(length: number): string {
  return `POST /hooks/import HTTP/1.1\r\nHost: x\r\nAuthorization: ${TEST_SECRET}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
}

/**
 * Collects a child's JSON log lines from its stdout; `listening` resolves with the URL of its
 * "Listening" line, or rejects if its output ends first. `reading` ends with the output.
 */
export function logLines(child: Deno.ChildProcess): {
  lines: string[];
  listening: Promise<string>;
  reading: Promise<void>;
} {
  const lines: string[] = [];
  const listening = Promise.withResolvers<string>();
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      for (const line of chunk.split("\n")) {
        lines.push(line);
        if (line.includes('"msg":"Listening"')) listening.resolve(JSON.parse(line).url);
      }
    }
    listening.reject(new Error(`no Listening line: ${lines.join("\n")}`));
  })();
  listening.promise.catch(() => {}); // a caller that awaits it sees the rejection
  return { lines, listening: listening.promise, reading };
}

/** Runs `program` with `input` on stdin; returns its stdout, trimmed; fails the test on exit != 0. */
export async function runChecked(program: string, args: string[], input = ""): Promise<string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw error instanceof Deno.errors.NotFound ? notInstalled(program) : error;
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `${program} ${args.join(" ")}: ${stderr}`);
  return new TextDecoder().decode(output.stdout).trim();
}

/** A list that tests wait on: `reached(n)` resolves once `n` items were pushed, or fails late. */
export class Arrivals<T> {
  readonly items: T[] = [];
  readonly #waiters: PromiseWithResolvers<void>[] = [];

  push(item: T): void {
    this.items.push(item);
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  async reached(n: number, what: string, ms = 3000): Promise<void> {
    while (this.items.length < n) {
      const waiter = Promise.withResolvers<void>();
      this.#waiters.push(waiter);
      await withDeadline(waiter.promise, ms, `${what} ${n}`);
    }
  }
}

/** A `decisions` row for `eventId`: an unchanged CREATE_USER of a@x.com, with `fields` changed. */
export function decisionRecord(
  eventId: string,
  fields: Partial<DecisionRecord> = {},
): DecisionRecord {
  return {
    eventId,
    receivedAt: "2026-03-02T08:00:00.000Z",
    jobId: "job-1",
    appId: "0oaApp",
    externalId: "E1",
    owner: '["0oaApp","externalId","E1"]',
    ownerSource: "attribute",
    action: "CREATE_USER",
    originalLogin: "a@x.com",
    finalLogin: "a@x.com",
    outcome: "unchanged",
    strategy: null,
    reused: false,
    reason: null,
    reply: { status: 204, body: null },
    durationMs: 1.23456,
    inputs: '["CREATE_USER","a@x.com"]',
    ...fields,
  };
}

/** Debian's package of each program a test runs that a machine with only Node may lack. */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  "systemd-analyze": "systemd",
  setpriv: "util-linux",
  useradd: "passwd",
  userdel: "passwd",
  curl: "curl",
  mount: "mount",
};

/** The error for a program that is not installed: what to install, or the script that does. */
export function notInstalled(program: string): Error {
  const pkg = PACKAGE_OF[program] ?? program;
  return new Error(
    `${program} is not installed: apt-get install -y ${pkg}, or run the README's test command, ` +
      "bash .ci/run, as root (it installs what the tests need)",
  );
}
