import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { parseConfig } from "../config.ts";
import { silentLogger } from "../log.ts";
import { DEV_FILES } from "./credentials.ts";
import { startService } from "./service.ts";
import { createSelfSignedCertificate } from "./dev_credentials.ts";
import {
  assertUnchanged,
  makeHookRequest,
  TEST_SECRET,
  withDeadline,
  withTempDir,
} from "../../tests/_test_utils.ts";

function config(dir: string, env: Record<string, string> = {}) {
  return {
    ...parseConfig({ BIND_ADDRESS: "127.0.0.1", DB_PATH: `${dir}/hook.db`, ...env }),
    port: 0,
  };
}

Deno.test("startService() without a secret or TLS files generates them in the data directory", async () => {
  await withTempDir("service-", async (dir) => {
    const service = await startService(config(dir), { dataDir: dir, log: silentLogger });
    const client = Deno.createHttpClient({ caCerts: [service.certificate] });
    try {
      const secret = (await Deno.readTextFile(`${dir}/${DEV_FILES.secret}`)).trim();
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
      assert.equal((await Deno.stat(`${dir}/${DEV_FILES.secret}`)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(`${dir}/${DEV_FILES.key}`)).mode! & 0o777, 0o600);
      assert.equal(await Deno.readTextFile(`${dir}/${DEV_FILES.cert}`), service.certificate);

      const url = `https://localhost:${service.addr.port}/hooks/import`;
      const post = (authorization: string) =>
        fetch(url, {
          client,
          method: "POST",
          headers: { authorization, "content-type": "application/json" },
          body: JSON.stringify(makeHookRequest({ login: "gen@example.com" })),
        });
      const refused = await post(TEST_SECRET);
      assert.equal(refused.status, 403);
      await refused.body?.cancel();
      await assertUnchanged(await post(secret));
    } finally {
      client.close();
      await service.stop();
    }

    // A restart reuses the generated files.
    const again = await startService(config(dir), { dataDir: dir, log: silentLogger });
    try {
      assert.equal(again.certificate, service.certificate);
    } finally {
      await again.stop();
    }
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((n) => !n.startsWith("hook.db"))
        .sort(),
      [DEV_FILES.cert, DEV_FILES.key, DEV_FILES.secret].sort(),
    );
  });
});

Deno.test("startService() names TLS_CERT_FILE when the certificate file cannot be read", async () => {
  await withTempDir("service-", async (dir) => {
    const env = { TLS_CERT_FILE: `${dir}/missing.pem`, TLS_KEY_FILE: `${dir}/key.pem` };
    await assert.rejects(
      startService(config(dir, env), { dataDir: dir, log: silentLogger }),
      (error: unknown) =>
        error instanceof Error &&
        error.message.startsWith(`Cannot read TLS_CERT_FILE: "${dir}/missing.pem": `),
    );
    await assert.rejects(Deno.stat(`${dir}/hook.db`), Deno.errors.NotFound);
  });
});

Deno.test("stop() lets a request in flight finish and commit before the service closes", async () => {
  await withTempDir("service-", async (dir) => {
    const service = await startService(config(dir, { HOOK_AUTH_SECRET: TEST_SECRET }), {
      dataDir: dir,
      log: silentLogger,
    });
    const client = Deno.createHttpClient({ caCerts: [service.certificate] });
    try {
      const body = new TextEncoder().encode(
        JSON.stringify(makeHookRequest({ login: "late@example.com", eventId: "evt-late" })),
      );
      const half = Math.floor(body.length / 2);
      let sendRest!: () => void;
      const restReady = new Promise<void>((resolve) => (sendRest = resolve));
      let firstSent!: () => void;
      const firstPulled = new Promise<void>((resolve) => (firstSent = resolve));
      let step = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (step === 0) {
            controller.enqueue(body.slice(0, half));
            firstSent();
          } else if (step === 1) {
            await restReady;
            controller.enqueue(body.slice(half));
          } else {
            controller.close();
          }
          step++;
        },
      });
      const handling = service.nextRequest();
      const response = fetch(`https://localhost:${service.addr.port}/hooks/import`, {
        client,
        method: "POST",
        headers: { authorization: TEST_SECRET, "content-type": "application/json" },
        body: stream,
      });
      await firstPulled;
      // The handler has the request and waits for the rest of its body.
      await withDeadline(handling, 5_000, "the handler to begin the request");
      assert.equal(service.requestsInFlight(), 1);
      let stopped = false;
      const stopping = service.stop().then(() => (stopped = true));
      await Promise.resolve();
      assert.equal(stopped, false);
      sendRest();
      await assertUnchanged(await response);
      await stopping;
      assert.equal(stopped, true);
    } finally {
      client.close();
      await service.stop().catch(() => {});
    }
    const db = new DatabaseSync(`${dir}/hook.db`, { readOnly: true });
    try {
      assert.deepEqual(
        { ...db.prepare("SELECT event_id, outcome, final_login FROM decisions").get() },
        { event_id: "evt-late", outcome: "unchanged", final_login: "late@example.com" },
      );
    } finally {
      db.close();
    }
  });
});

Deno.test("startService() warns when the TLS key or the database can be read by other users", async () => {
  await withTempDir("service-", async (dir) => {
    const pair = await createSelfSignedCertificate();
    await Deno.writeTextFile(`${dir}/cert.pem`, pair.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, pair.key, { mode: 0o644 });
    await Deno.chmod(`${dir}/key.pem`, 0o644);
    await Deno.writeFile(`${dir}/hook.db`, new Uint8Array());
    await Deno.chmod(`${dir}/hook.db`, 0o640);
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (message: string) => warnings.push(message) };
    const env = { TLS_CERT_FILE: `${dir}/cert.pem`, TLS_KEY_FILE: `${dir}/key.pem` };
    const service = await startService(config(dir, env), { dataDir: dir, log });
    await service.stop();
    assert.deepEqual(warnings, [
      "TLS_KEY_FILE can be read by other users",
      "DB_PATH can be read by other users",
    ]);
  });
});

Deno.test("reloadCertificate() serves a new pair to new connections, keeps the old on a bad one, and no request fails", async () => {
  await withTempDir("service-", async (dir) => {
    const first = await createSelfSignedCertificate();
    const second = await createSelfSignedCertificate();
    await Deno.writeTextFile(`${dir}/cert.pem`, first.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, first.key);
    const env = {
      HOOK_AUTH_SECRET: TEST_SECRET,
      TLS_CERT_FILE: `${dir}/cert.pem`,
      TLS_KEY_FILE: `${dir}/key.pem`,
    };
    const errors: string[] = [];
    const log = { ...silentLogger, error: (message: string) => errors.push(message) };
    const service = await startService(config(dir, env), { dataDir: dir, log });
    /** Whether a new handshake trusting only `cert` succeeds: the server presents that one. */
    const presents = async (cert: string) => {
      try {
        const conn = await Deno.connectTls({
          hostname: "localhost",
          port: service.addr.port,
          caCerts: [cert],
        });
        await conn.handshake();
        conn.close();
        return true;
      } catch {
        return false;
      }
    };
    // A keep-alive client on the old certificate, busy the whole time.
    const client = Deno.createHttpClient({ caCerts: [first.cert, second.cert] });
    let running = true;
    const statuses: number[] = [];
    const load = (async () => {
      for (let i = 0; running; i++) {
        const response = await fetch(`https://localhost:${service.addr.port}/hooks/import`, {
          client,
          method: "POST",
          headers: { authorization: TEST_SECRET, "content-type": "application/json" },
          body: JSON.stringify(makeHookRequest({ login: `reload${i}@example.com` })),
        });
        statuses.push(response.status);
        await response.body?.cancel();
      }
    })();
    try {
      assert.equal(await presents(first.cert), true);
      await Deno.writeTextFile(`${dir}/cert.pem`, "not a certificate");
      assert.equal(await service.reloadCertificate(), false);
      assert.deepEqual(errors, ["Cannot load the new certificate; the old one goes on serving"]);
      assert.equal(await presents(first.cert), true);

      await Deno.writeTextFile(`${dir}/cert.pem`, second.cert);
      await Deno.writeTextFile(`${dir}/key.pem`, second.key);
      assert.equal(await service.reloadCertificate(), true);
      assert.equal(await presents(second.cert), true);
      assert.equal(await presents(first.cert), false);
    } finally {
      running = false;
      await load;
      client.close();
      await service.stop();
    }
    assert.ok(statuses.length > 0);
    assert.deepEqual([...new Set(statuses)], [204]);
  });
});
