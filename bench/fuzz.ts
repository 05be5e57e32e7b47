// deno-lint-ignore-file no-console -- the fuzz run reports on the terminal
/**
 * `deno task fuzz`: drives the real start process over HTTPS with generated requests, malformed
 * and not, authenticated and not (bodies, headers, methods, paths, Unicode), then checks what the
 * service promises: no 5xx, no reset of an authenticated request, the process alive, and the
 * database invariants (no login key handed to two owners; every answered decision's login held
 * by its owner; stored text reads back as sent). Bounded by a request count and seconds.
 *
 * Options: --requests=100000 --seconds=300 --concurrency=16 --seed=1 --keep
 * Exit code 0 when every check holds, 1 otherwise.
 */

import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import { loginKey } from "../lib/decision/fold_name.ts";
import {
  BENCH_DIR,
  freePort,
  makeBenchDir,
  taskArgs,
  waitUntilUp,
  writeCertificate,
} from "./_bench_utils.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    requests: { type: "string", default: "100000" },
    seconds: { type: "string", default: "300" },
    concurrency: { type: "string", default: "16" },
    seed: { type: "string", default: "1" },
    keep: { type: "boolean", default: false },
  },
});
const REQUESTS = Number(values.requests);
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const SECRET = "fuzz-secret-0123456789abcdef";
const DENO = "deno";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** mulberry32: the same seed makes the same requests. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(Number(values.seed));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (p: number) => random() < p;

// Code units an attacker reaches for, and some that a real directory holds.
const UNITS = [
  0x00,
  0x01,
  0x09,
  0x0a,
  0x0d,
  0x1b,
  0x22,
  0x27,
  0x2e,
  0x40,
  0x5c,
  0x7f,
  0x85,
  0xa0,
  0xe9,
  0xf8,
  0x142,
  0x301,
  0x308,
  0x2028,
  0x200b,
  0x200d,
  0x202e,
  0xd800,
  0xd83d,
  0xdbff,
  0xdc00,
  0xde00,
  0xfb01,
  0xfeff,
  0xff21,
  0xfffd,
  0xffff,
  0x5d0,
  0x4e2d,
  0x41,
  0x61,
  0x7a,
  0x30,
];
function unicode(max = 12): string {
  const length = 1 + Math.floor(random() * max);
  return String.fromCharCode(...Array.from({ length }, () => pick(UNITS)));
}
function word(): string {
  return pick(["george", "smith", "ann", "lee", "zoë", "núñez", "o'neil", "MARY", "li", "x"]);
}
function login(): string {
  if (chance(0.05)) return unicode(20);
  if (chance(0.02)) return "a".repeat(90 + Math.floor(random() * 30)) + "@example.com";
  const local = chance(0.7) ? `${word()}.${word()}` : word();
  return `${local}${chance(0.1) ? unicode(2) : ""}@${
    pick(["example.com", "EXAMPLE.com", "x.org"])
  }`;
}

// deno-lint-ignore no-explicit-any
type Json = any;
let nextEvent = 0;

/** An Okta-shaped body, then mangled in one of many ways (or not). */
function body(): { text: string | Uint8Array; eventId: string | null; login: string | null } {
  const eventId = chance(0.03) ? unicode(8) : `fz-${values.seed}-${nextEvent++}`;
  const wanted = login();
  const value: Json = {
    eventType: "com.okta.import.transform",
    eventId,
    eventTime: "2026-12-02T00:00:00.000Z",
    data: {
      context: {
        conflicts: chance(0.2) ? ["login"] : [],
        application: { id: pick(["0oaApp", "0oaOther", null]) },
        job: { id: `job-${Math.floor(random() * 5)}` },
      },
      action: { result: pick(["CREATE_USER", "CREATE_USER", "CREATE_USER", "LINK_USER", "X"]) },
      appUser: {
        profile: {
          externalId: chance(0.1) ? unicode(6) : `E${Math.floor(random() * 5000)}`,
          middleName: chance(0.3) ? null : chance(0.1) ? unicode(10) : word(),
          userName: wanted,
        },
      },
      user: { id: chance(0.2) ? "00u1" : null, profile: { login: wanted } },
    },
  };
  const mutate = random();
  if (mutate < 0.05) delete value.eventType;
  else if (mutate < 0.1) value.eventType = unicode(30);
  else if (mutate < 0.15) value.data = pick([null, [], "x", 1]);
  else if (mutate < 0.2) value.data.user.profile.login = pick([null, 5, [], {}, "", " "]);
  else if (mutate < 0.23) value.data.context.conflicts = pick([{}, "login", [1, null]]);
  else if (mutate < 0.26) value.eventId = pick([null, 1, "", "x".repeat(300)]);
  else if (mutate < 0.28) value.__proto__ = { eventType: "x" };
  let text = JSON.stringify(value);
  const raw = random();
  if (raw < 0.03) text = text.slice(0, Math.floor(random() * text.length));
  else if (raw < 0.05) text = `${"[".repeat(5000)}${"]".repeat(5000)}`;
  else if (raw < 0.06) text = text.replace('"eventId"', '"eventId":1,"eventId"');
  else if (raw < 0.08) {
    const bytes = enc.encode(text);
    bytes[Math.floor(random() * bytes.length)] = pick([0xff, 0xc3, 0x80, 0xfe]);
    return { text: bytes, eventId: null, login: null };
  }
  const sentLogin = value.data?.user?.profile?.login;
  return {
    text,
    eventId: typeof value.eventId === "string" ? value.eventId : null,
    login: typeof sentLogin === "string" ? sentLogin : null,
  };
}

interface Sent {
  readonly authenticated: boolean;
  readonly eventId: string | null;
  readonly login: string | null;
}

/** A whole request as bytes, with headers right or wrong. */
function request(): { bytes: Uint8Array; sent: Sent } {
  const { text, eventId, login } = body();
  const payload = typeof text === "string" ? enc.encode(text) : text;
  const auth = random();
  const authenticated = auth < 0.7;
  const headers: string[] = [
    `Host: ${chance(0.05) ? pick(["[", "a b", ":99999", "a/b", ""]) : "localhost"}`,
  ];
  if (authenticated) headers.push(`Authorization: ${SECRET}`);
  else if (auth < 0.85) {
    headers.push(`Authorization: ${pick(["", "x", SECRET + "x", "Bearer " + SECRET])}`);
  }
  headers.push(
    `Content-Type: ${
      chance(0.92) ? "application/json" : pick(["text/plain", "", "application/json;x"])
    }`,
  );
  if (chance(0.02)) headers.push(`X-${unicode(3).replace(/[^A-Za-z]/g, "A")}: ${"v".repeat(100)}`);
  const method = chance(0.95) ? "POST" : pick(["GET", "PUT", "toString", "HEAD", "DELETE"]);
  const path = chance(0.95)
    ? "/hooks/import"
    : pick(["/", "/healthz", "/hooks/import/", "/%00", "/hooks/import?x=1"]);
  const chunked = chance(0.1);
  const head = `${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n` +
    (chunked ? "Transfer-Encoding: chunked\r\n\r\n" : `Content-Length: ${payload.length}\r\n\r\n`);
  const framed = chunked
    ? concat(
      enc.encode(head),
      enc.encode(payload.length.toString(16) + "\r\n"),
      payload,
      enc.encode("\r\n0\r\n\r\n"),
    )
    : concat(enc.encode(head), payload);
  // Only a POST to the hook is a decision; every other route answers without one.
  const hook = method === "POST" && (path === "/hooks/import" || path === "/hooks/import?x=1");
  return {
    bytes: framed,
    sent: { authenticated, eventId: authenticated && hook ? eventId : null, login },
  };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Reads one response off a keep-alive connection: its status and body. */
async function response(conn: Deno.TlsConn, pending: { buffer: Uint8Array }, method: string) {
  const chunk = new Uint8Array(16 * 1024);
  const fill = async () => {
    const n = await conn.read(chunk);
    if (n === null) throw new Deno.errors.UnexpectedEof("closed");
    pending.buffer = concat(pending.buffer, chunk.subarray(0, n));
  };
  let end: number;
  while ((end = indexOf(pending.buffer, "\r\n\r\n")) === -1) await fill();
  const head = dec.decode(pending.buffer.subarray(0, end));
  const status = Number(head.slice(9, 12));
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  const size = method === "HEAD" || status === 204 || status === 304 ? 0 : Number(length?.[1] ?? 0);
  while (pending.buffer.length < end + 4 + size) await fill();
  const text = dec.decode(pending.buffer.subarray(end + 4, end + 4 + size));
  pending.buffer = pending.buffer.subarray(end + 4 + size);
  const closes = /\r\nconnection: *close/i.test(head);
  return { status, text, closes };
}

function indexOf(bytes: Uint8Array, text: string): number {
  const needle = enc.encode(text);
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

// --- run -------------------------------------------------------------------------------------

const dir = await makeBenchDir("fuzz-");
const tls = await writeCertificate(dir);
const port = freePort();
const dbPath = `${dir}/hook.db`;
const service = new Deno.Command(DENO, {
  args: await taskArgs("start"),
  env: {
    PORT: String(port),
    BIND_ADDRESS: "127.0.0.1",
    HOOK_AUTH_SECRET: SECRET,
    DB_PATH: dbPath,
    TLS_CERT_FILE: tls.certFile,
    TLS_KEY_FILE: tls.keyFile,
    MAX_CONNECTIONS: String(CONCURRENCY * 4),
  },
  stdin: "null",
  stdout: "null",
  stderr: "inherit",
}).spawn();

const statuses = new Map<number, number>();
const answered: { eventId: string; login: string | null; status: number; text: string }[] = [];
let sentCount = 0;
let authResets = 0;
let otherResets = 0;
const started = performance.now();
const until = started + SECONDS * 1000;

async function worker(): Promise<void> {
  let conn: Deno.TlsConn | null = null;
  const pending = { buffer: new Uint8Array() };
  while (sentCount < REQUESTS && performance.now() < until) {
    sentCount++;
    const { bytes, sent } = request();
    const method = dec.decode(bytes.subarray(0, 8)).split(" ")[0]!;
    try {
      conn ??= await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [tls.cert] });
      await conn.write(bytes);
      const reply = await response(conn, pending, method);
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      // A repeated eventId with the same inputs is a replay (the first answer again); with other
      // inputs it is decided anew, in a row of its own (the audit keys rows by eventId and inputs).
      if (sent.eventId !== null && (reply.status === 200 || reply.status === 204)) {
        answered.push({
          eventId: sent.eventId,
          login: sent.login,
          status: reply.status,
          text: reply.text,
        });
      }
      if (reply.closes) {
        conn.close();
        conn = null;
        pending.buffer = new Uint8Array();
      }
    } catch {
      if (sent.authenticated) authResets++;
      else otherResets++;
      try {
        conn?.close();
      } catch { /* closed */ }
      conn = null;
      pending.buffer = new Uint8Array();
    }
  }
  try {
    conn?.close();
  } catch { /* closed */ }
}

/** A decisions row, as the checks read it. */
interface Decision {
  readonly owner: string;
  readonly final: string | null;
  readonly original: string | null;
  readonly decided: boolean;
}

let failed = false;
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failed = true;
};

try {
  await waitUntilUp(`https://127.0.0.1:${port}/healthz`, tls.cert);
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const health = await fetch(`https://127.0.0.1:${port}/healthz`, {
    client: Deno.createHttpClient({ caCerts: [tls.cert] }),
  });
  await health.body?.cancel();
  console.log(
    `${sentCount} requests in ${seconds.toFixed(1)} s (${
      Math.round(sentCount / seconds)
    } req/s), ` +
      `concurrency ${CONCURRENCY}, seed ${values.seed}`,
  );
  console.log(
    `statuses: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}=${n}`).join(" ")}`,
  );
  const fivexx = [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
  check(fivexx === 0, `no 5xx (${fivexx})`);
  check(
    authResets === 0,
    `no authenticated request reset (${authResets}; unauthenticated: ${otherResets})`,
  );
  check(health.status === 200, `the process is alive and healthy (/healthz ${health.status})`);
  service.kill("SIGTERM");
  const status = await service.status;
  check(status.code === 0, `SIGTERM stops it with exit code 0 (${status.code})`);

  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    /** Every eventId's rows: one per distinct inputs decided under it. */
    const decisions = new Map<string, Decision[]>();
    const rows = db.prepare(
      "SELECT event_id, owner, final_login, original_login, outcome FROM decisions",
    );
    for (const row of rows.iterate()) {
      const r = row as Record<string, string | null>;
      const decision = {
        owner: r.owner!,
        final: r.final_login ?? null,
        original: r.original_login ?? null,
        // Skipped events (LINK_USER, other actions) reserve nothing for their owner.
        decided: r.outcome === "unchanged" || r.outcome === "resolved",
      };
      decisions.set(r.event_id!, [...(decisions.get(r.event_id!) ?? []), decision]);
    }
    const holders = new Map<string, { owner: string | null; source: string }>();
    for (const row of db.prepare("SELECT login_key, owner, source FROM logins").iterate()) {
      const r = row as { login_key: string; owner: string | null; source: string };
      holders.set(r.login_key, { owner: r.owner, source: r.source });
    }
    // Two owners never share a final login (compared as the index compares).
    const ownerOf = new Map<string, string>();
    let shared = 0;
    for (const d of [...decisions.values()].flat()) {
      if (!d.decided || d.final === null) continue;
      const key = loginKey(d.final);
      const seen = ownerOf.get(key);
      if (seen !== undefined && seen !== d.owner) shared++;
      ownerOf.set(key, d.owner);
    }
    check(
      shared === 0,
      `no login handed to two owners (${shared} shared, ${
        [...decisions.values()].flat().length
      } decisions)`,
    );
    let missing = 0;
    let notTheirs = 0;
    let changed = 0;
    for (const a of answered) {
      const rows = decisions.get(a.eventId) ?? [];
      if (rows.length === 0) {
        missing++;
        continue;
      }
      // Its row: the one decided from the login it sent.
      const d = rows.find((r) =>
        a.login === null || r.original === null || r.original === a.login.trim()
      );
      if (d === undefined) {
        if (changed++ < 3) {
          console.log(
            `  changed: sent ${JSON.stringify(a.login)}, stored ${
              JSON.stringify(rows.map((r) => r.original))
            }`,
          );
        }
        continue;
      }
      if (!d.decided || d.final === null) continue;
      const holder = holders.get(loginKey(d.final));
      if (holder === undefined) missing++;
      else if (holder.owner !== d.owner && holder.owner !== null && holder.source !== "link") {
        notTheirs++;
      }
    }
    check(
      missing === 0,
      `every answered decision is stored with its login reserved (${missing} missing of ${answered.length})`,
    );
    check(
      notTheirs === 0,
      `every answered login is held by its decision's owner (${notTheirs} not)`,
    );
    check(changed === 0, `stored text reads back as sent (${changed} changed)`);
  } finally {
    db.close();
  }
} finally {
  try {
    service.kill("SIGKILL");
  } catch { /* already stopped */ }
  await service.status;
  if (!values.keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
  else console.log(`kept ${dir} (under ${BENCH_DIR})`);
}
console.log(failed ? "fuzz: FAILED" : "fuzz: all checks passed");
Deno.exit(failed ? 1 : 0);
