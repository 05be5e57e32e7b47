/**
 * The connection guard against slow and many clients, on the real server over HTTPS: open
 * connections are capped, and a handshake, a head, a body or an idle keep-alive that takes too
 * long is closed on time, while legitimate requests go on being answered.
 */

import assert from "node:assert/strict";
import {
  hookHead,
  makeHookRequest,
  rawStatus,
  readUntilClosed,
  startTestServer,
  type TestServer,
  withDeadline,
} from "./_test_utils.ts";

const LIMITS = {
  MAX_CONNECTIONS: "20",
  HANDSHAKE_TIMEOUT_MS: "500",
  REQUEST_TIMEOUT_MS: "600",
  BODY_TIMEOUT_MS: "600",
  IDLE_TIMEOUT_MS: "700",
};

/** Resolves with the milliseconds until the server closes `conn` (reads until EOF or error). */
async function closedAfter(conn: Deno.Conn, from: number): Promise<number> {
  const buffer = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return performance.now() - from;
  }
}

async function tlsConnect(server: TestServer): Promise<Deno.TlsConn> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.service.addr.port,
    caCerts: [server.service.certificate],
  });
  await conn.handshake();
  return conn;
}

async function healthy(server: TestServer): Promise<number> {
  const response = await server.fetch("/healthz");
  await response.body?.cancel();
  return response.status;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* the server closed it */ }
}

Deno.test("more connections than the limit: the service stays up and serves again once they close", async () => {
  const server = await startTestServer({ env: LIMITS });
  const conns: Deno.Conn[] = [];
  try {
    // Plain TCP that never starts TLS: each holds a slot until its handshake deadline.
    for (let i = 0; i < 40; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: server.service.addr.port }));
    }
    const started = performance.now();
    const closings = conns.map((conn) => closedAfter(conn, started));
    const times = await withDeadline(Promise.all(closings), 5_000, "the held connections to close");
    // Those past the limit are closed at once; the rest at the handshake deadline.
    const early = times.filter((ms) => ms < 300).length;
    assert.ok(early >= 20, `${early} of 40 closed at once`);
    assert.ok(Math.max(...times) < 1_500, `the last closed after ${Math.max(...times)} ms`);
    const t = performance.now();
    assert.equal(await healthy(server), 200);
    assert.ok(performance.now() - t < 1_000);
    assert.equal(server.service.openConnections(), 1); // the client's own keep-alive
  } finally {
    conns.forEach(closeQuietly);
    await server.close();
  }
});

Deno.test("a client trickling its request head is closed at the head deadline, others are served meanwhile", async () => {
  const server = await startTestServer({ env: LIMITS });
  const trickling: Deno.TlsConn[] = [];
  try {
    for (let i = 0; i < 5; i++) trickling.push(await tlsConnect(server));
    const started = performance.now();
    const closings = trickling.map((conn) => closedAfter(conn, started));
    const head = new TextEncoder().encode("POST /hooks/import HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    let sent = 0;
    const drip = setInterval(() => {
      for (const conn of trickling) conn.write(head.subarray(sent, sent + 1)).catch(() => {});
      sent++;
    }, 100);
    try {
      // While they trickle, the cap leaves room: a legitimate request is answered.
      assert.equal(await healthy(server), 200);
      const times = await withDeadline(Promise.all(closings), 5_000, "the tricklers to be closed");
      for (const ms of times) assert.ok(ms >= 500 && ms < 1_500, `closed after ${ms} ms`);
    } finally {
      clearInterval(drip);
    }
  } finally {
    trickling.forEach(closeQuietly);
    await server.close();
  }
});

Deno.test("a keep-alive connection left idle is closed at the idle deadline", async () => {
  const server = await startTestServer({ env: LIMITS });
  const conn = await tlsConnect(server);
  try {
    await conn.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    assert.equal(rawStatus(new TextDecoder().decode(buffer.subarray(0, n ?? 0))), 200);
    const started = performance.now();
    const ms = await withDeadline(closedAfter(conn, started), 5_000, "the idle close");
    assert.ok(ms >= 600 && ms < 1_500, `closed after ${ms} ms`);
  } finally {
    closeQuietly(conn);
    await server.close();
  }
});

Deno.test("an authenticated body that stalls is answered 408 and its connection dropped", async () => {
  const server = await startTestServer({ env: LIMITS });
  const conn = await tlsConnect(server);
  try {
    const body = JSON.stringify(makeHookRequest({ login: "stall@example.com" }));
    await conn.write(new TextEncoder().encode(hookHead(body.length) + body.slice(0, 100)));
    const started = performance.now();
    const reading = readUntilClosed(conn).then((text) => ({
      text,
      ms: performance.now() - started,
    }));
    const { text, ms } = await withDeadline(reading, 5_000, "the 408 and the close");
    assert.equal(rawStatus(text), 408, text);
    assert.ok(ms < 2_500, `answered and closed after ${ms} ms`);
    const stored = server.db().prepare("SELECT count(*) AS n FROM decisions").get();
    assert.equal(stored?.n, 0);
  } finally {
    closeQuietly(conn);
    await server.close();
  }
});
