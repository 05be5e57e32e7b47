import assert from "node:assert/strict";
import { InternalServer } from "./internal_server.ts";
import type { TlsPair } from "./dev_credentials.ts";
import { silentLogger } from "../log.ts";
import { Arrivals, withDeadline } from "../../tests/_test_utils.ts";

/** Plain-HTTP servers on loopback, each answering with its generation; the test can end any. */
function servers() {
  const started = new Arrivals<Deno.HttpServer<Deno.NetAddr>>();
  return {
    started: started.items,
    /** Resolves once `n` servers have been started. */
    count: (n: number) => started.reached(n, "server"),
    start: (_tls: TlsPair | null) => {
      const generation = started.items.length + 1;
      const server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        () => new Response(String(generation)),
      );
      started.push(server);
      return server;
    },
  };
}

async function get(port: number): Promise<string> {
  return await (await fetch(`http://127.0.0.1:${port}/`)).text();
}

Deno.test("InternalServer starts a new server on a new port when its server ends by itself", async () => {
  const made = servers();
  const server = new InternalServer(made.start, null, silentLogger);
  try {
    assert.equal(await get(server.port), "1");
    // As an accept loop ended by EMFILE would: the server finishes without a shutdown of ours.
    await made.started[0]!.shutdown();
    await made.count(2);
    assert.equal(await get(server.port), "2");
  } finally {
    await server.shutdown();
  }
  await withDeadline(server.finished, 1000, "finished after shutdown");
});

Deno.test("InternalServer.reload() serves new connections from a new server and stops the old once drained", async () => {
  const made = servers();
  const server = new InternalServer(made.start, null, silentLogger);
  const drained = Promise.withResolvers<void>();
  let askedFor = -1;
  try {
    const oldPort = server.port;
    server.reload({ cert: "c", key: "k" }, (port) => {
      askedFor = port;
      return drained.promise;
    });
    assert.equal(askedFor, oldPort);
    assert.notEqual(server.port, oldPort);
    assert.equal(await get(server.port), "2");
    assert.equal(await get(oldPort), "1", "the old server serves until drained");
    drained.resolve();
    await withDeadline(made.started[0]!.finished, 2000, "the old server to stop");
  } finally {
    await server.shutdown();
  }
});
