import assert from "node:assert/strict";
import { silentLogger } from "../log.ts";
import { type GuardLimits, startGuard } from "./guard.ts";
import { readUntilClosed, withDeadline } from "../../tests/_test_utils.ts";

/** An upstream that answers each chunk with "ok:<chunk>", remembering who connected. */
function echoUpstream() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const peers: Deno.NetAddr[] = [];
  const conns: Deno.Conn[] = [];
  void (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      peers.push(conn.remoteAddr as Deno.NetAddr);
      void (async () => {
        const buffer = new Uint8Array(1024);
        for (;;) {
          const n = await conn.read(buffer).catch(() => null);
          if (n === null) return;
          await conn.write(
            new TextEncoder().encode(`ok:${new TextDecoder().decode(buffer.subarray(0, n))}`),
          )
            .catch(() => {});
        }
      })();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    peers,
    close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    },
  };
}

const LIMITS: GuardLimits = {
  maxConnections: 2,
  handshakeTimeoutMs: 300,
  requestTimeoutMs: 300,
  idleTimeoutMs: 300,
  writeTimeoutMs: 1000,
};

async function withGuard(
  limits: Partial<GuardLimits>,
  test: (
    port: number,
    guard: ReturnType<typeof startGuard>,
    up: ReturnType<typeof echoUpstream>,
  ) => Promise<void>,
) {
  const up = echoUpstream();
  const guard = startGuard({
    hostname: "127.0.0.1",
    port: 0,
    upstreamPort: () => up.port,
    ...LIMITS,
    ...limits,
  }, silentLogger);
  try {
    await test(guard.addr.port, guard, up);
  } finally {
    guard.stopAccepting();
    guard.closeAll();
    await guard.finished;
    up.close();
  }
}

Deno.test("the guard passes bytes both ways and maps the internal connection back to the client", async () => {
  await withGuard({}, async (port, guard, up) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await conn.write(new TextEncoder().encode("hello"));
      const buffer = new Uint8Array(64);
      const n = await withDeadline(conn.read(buffer), 2000, "the echo");
      assert.equal(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), "ok:hello");
      assert.equal(guard.open(), 1);
      assert.equal(guard.peerOf(up.peers[0]!), "127.0.0.1");
      assert.equal(guard.peerOf({ transport: "tcp", hostname: "127.0.0.1", port: 1 }), null);
    } finally {
      conn.close();
    }
  });
});

Deno.test("the guard closes connections past its limit at once, and silent ones at the handshake deadline", async () => {
  await withGuard({ maxConnections: 1 }, async (port) => {
    const silent = await Deno.connect({ hostname: "127.0.0.1", port });
    const over = await Deno.connect({ hostname: "127.0.0.1", port });
    const started = performance.now();
    assert.equal(await withDeadline(readUntilClosed(over), 2000, "the over-limit close"), "");
    assert.ok(performance.now() - started < 250, "closed at once");
    await withDeadline(readUntilClosed(silent), 2000, "the handshake deadline");
    assert.ok(performance.now() - started >= 250, "closed at its deadline, not before");
  });
});

Deno.test("the guard closes a connection idle after the server spoke, and drains one at once", async () => {
  await withGuard({}, async (port, guard) => {
    const idle = await Deno.connect({ hostname: "127.0.0.1", port });
    await idle.write(new TextEncoder().encode("x"));
    const started = performance.now();
    assert.equal(await withDeadline(readUntilClosed(idle), 2000, "the idle close"), "ok:x");
    assert.ok(performance.now() - started >= 250);
    const drained = await Deno.connect({ hostname: "127.0.0.1", port });
    await drained.write(new TextEncoder().encode("y"));
    const buffer = new Uint8Array(16);
    await drained.read(buffer);
    guard.drain();
    await withDeadline(guard.allClosed(), 1000, "the drain");
    drained.close();
  });
});

Deno.test("the guard closes a connection whose client does not take the server's bytes in time", async () => {
  const limits = { writeTimeoutMs: 300, requestTimeoutMs: 20_000, idleTimeoutMs: 20_000 };
  await withGuard(limits, async (port, guard) => {
    const reader = await Deno.connect({ hostname: "127.0.0.1", port });
    // It sends and sends and never reads: the echoes fill its receive buffer, then the guard's.
    const chunk = new Uint8Array(64 * 1024).fill(120);
    const started = performance.now();
    const writing = (async () => {
      for (;;) await reader.write(chunk);
    })();
    await withDeadline(writing.catch(() => {}), 5000, "the write-timeout close");
    assert.ok(performance.now() - started >= 300, "not before the write timeout");
    await withDeadline(guard.allClosed(), 1000, "the guard's side");
    reader.close();
  });
});
