import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { PROJECT, spawnService, startCommand, type Started } from "./_spawn.ts";
import { createSelfSignedCertificate } from "../lib/hook/dev_credentials.ts";
import { launch } from "../lib/launch.ts";
import {
  hookHead,
  makeHookRequest,
  makeTempDir,
  readUntilClosed,
  TEST_SECRET,
  withDeadline,
} from "./_test_utils.ts";

function post(started: Started, body: unknown): Promise<Response> {
  return fetch(started.url, {
    method: "POST",
    client: started.client,
    headers: { authorization: TEST_SECRET, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

Deno.test("the start task's process logs each request without the secret and exits 0 on SIGTERM", async () => {
  const dir = await makeTempDir();
  const started = await spawnService(dir);
  try {
    const request = makeHookRequest({ login: "sig.term@example.com", conflicts: ["login"] });
    const response = await post(started, request);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    started.child.kill("SIGTERM");
    const status = await withDeadline(started.child.status, 20_000, "the service to exit");
    await started.done;
    assert.equal(status.code, 0);
    const logged = started.lines.map((line) => JSON.parse(line));
    const requestLine = logged.find((entry) => entry.msg === "request");
    assert.deepEqual(
      { ...requestLine, time: undefined, ms: undefined },
      {
        time: undefined,
        level: "info",
        msg: "request",
        method: "POST",
        path: "/hooks/import",
        eventId: request.eventId,
        outcome: "resolved",
        status: 200,
        ms: undefined,
      },
    );
    assert.equal(logged.at(-1).msg, "Stopped");
    assert.ok(!started.lines.join("\n").includes(TEST_SECRET), "no log line holds the secret");
  } finally {
    started.client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an answered decision survives kill -9 of the service", async () => {
  const dir = await makeTempDir();
  const started = await spawnService(dir);
  try {
    const requests = Array.from(
      { length: 20 },
      () => makeHookRequest({ login: "kill.nine@example.com", middleName: null }),
    );
    const answered = await Promise.all(requests.map(async (request) => {
      const response = await post(started, request);
      await response.body?.cancel();
      return { eventId: request.eventId as string, status: response.status };
    }));
    started.child.kill("SIGKILL");
    await withDeadline(started.child.status, 20_000, "the service to exit");
    await started.done;
    const db = new DatabaseSync(`${dir}/hook.db`);
    try {
      const rows = db.prepare("SELECT event_id, status FROM decisions").all();
      const stored = new Map(rows.map((row) => [row.event_id, row.status]));
      for (const { eventId, status } of answered) assert.equal(stored.get(eventId), status);
      const logins = db.prepare("SELECT count(*) AS n FROM logins").get();
      assert.equal(logins?.n, 20);
    } finally {
      db.close();
    }
  } finally {
    started.client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("start-up failures are one line naming the setting, on stderr and in the structured log", async () => {
  const dir = await makeTempDir();
  const pair = await createSelfSignedCertificate();
  const other = await createSelfSignedCertificate();
  await Deno.writeTextFile(`${dir}/cert.pem`, pair.cert);
  await Deno.writeTextFile(`${dir}/key.pem`, pair.key);
  await Deno.writeTextFile(`${dir}/other-key.pem`, other.key);
  await Deno.writeTextFile(`${dir}/not.pem`, "hello");
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tls = { TLS_CERT_FILE: `${dir}/cert.pem`, TLS_KEY_FILE: `${dir}/key.pem` };
  const base = { BIND_ADDRESS: "127.0.0.1", PORT: "0", HOOK_AUTH_SECRET: TEST_SECRET, ...tls };
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ PORT: "84x3" }, "PORT", /^Cannot start: Cannot read PORT: "84x3" is not a number$/],
    [
      { ...base, DB_PATH: `${dir}/missing/hook.db` },
      "DB_PATH",
      /^Cannot start: Cannot open DB_PATH ".*missing\/hook\.db": its directory does not exist$/,
    ],
    [
      { ...base, PORT: String((busy.addr as Deno.NetAddr).port), DB_PATH: `${dir}/a.db` },
      "PORT",
      /^Cannot start: Cannot listen on PORT \d+: it is in use on 127\.0\.0\.1$/,
    ],
    [
      { ...base, BIND_ADDRESS: "no-such-host.invalid", DB_PATH: `${dir}/b.db` },
      "BIND_ADDRESS",
      /^Cannot start: Cannot listen on BIND_ADDRESS "no-such-host\.invalid": it cannot be resolved$/,
    ],
    [
      { ...base, TLS_CERT_FILE: `${dir}/not.pem`, DB_PATH: `${dir}/c.db` },
      "TLS_CERT_FILE",
      /^Cannot start: Cannot use TLS_CERT_FILE ".*not\.pem": it holds no PEM certificate$/,
    ],
    [
      { ...base, TLS_KEY_FILE: `${dir}/other-key.pem`, DB_PATH: `${dir}/d.db` },
      "TLS_KEY_FILE",
      /^Cannot start: Cannot use TLS_KEY_FILE ".*other-key\.pem": it does not match the certificate in TLS_CERT_FILE$/,
    ],
  ];
  try {
    for (const [env, setting, line] of cases) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: await startCommand(env),
        cwd: new URL("..", import.meta.url),
        env: { NO_COLOR: "1", ...env },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 1, stderr);
      assert.equal(stderr.split("\n").filter((l) => l !== "").length, 1, stderr);
      assert.match(stderr.trim(), line);
      const logged = new TextDecoder().decode(output.stdout).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      const failure = logged.at(-1);
      assert.deepEqual([failure.level, failure.msg, failure.setting], [
        "error",
        "Cannot start",
        setting,
      ]);
    }
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the start task answers --help and refuses arguments it does not take", async () => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [...launch("serve", args, {}, PROJECT).args],
      cwd: new URL("..", import.meta.url),
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /^Usage: deno task start/);
  const port = await run(["--port", "9999"]);
  assert.equal(port.code, 2);
  assert.match(new TextDecoder().decode(port.stderr), /^Unknown option '--port'/);
});

Deno.test("out of file descriptors, the service logs the accept errors, stays up and serves again", async () => {
  const dir = await makeTempDir();
  // 128 descriptors, a connection limit above what they allow: accept itself must fail.
  const started = await spawnService(dir, { openFiles: 128, env: { MAX_CONNECTIONS: "1000" } });
  const port = Number(new URL(started.url).port);
  const held: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      // Past what the service can accept the kernel's queue fills, and it may reset some.
      const conn = await Deno.connect({ hostname: "127.0.0.1", port }).catch(() => null);
      if (conn !== null) held.push(conn);
    }
    // Each connection costs the service three descriptors: 60 are more than 128 allow.
    assert.ok(held.length > 60, `only ${held.length} connections were made`);
    // The connections never start TLS: the service closes them at the handshake deadline (2 s),
    // which frees its descriptors; meanwhile accept fails with EMFILE.
    const buffer = new Uint8Array(16);
    await withDeadline(
      Promise.all(held.map((conn) => conn.read(buffer).catch(() => null))),
      15_000,
      "the held connections to be closed",
    );
    const response = await post(started, makeHookRequest({ login: "after.flood@example.com" }));
    assert.equal(response.status, 204);
    await response.body?.cancel();
    assert.ok(
      started.lines.some((line) => line.includes("Cannot accept connections; retrying")),
      "the accept errors are logged",
    );
    started.child.kill("SIGTERM");
    const status = await withDeadline(started.child.status, 20_000, "the service to exit");
    assert.equal(status.code, 0);
  } finally {
    for (const conn of held) {
      try {
        conn.close();
      } catch { /* closed by the service */ }
    }
    started.client.close();
    try {
      started.child.kill("SIGKILL"); // a failed assertion above left it running
    } catch { /* it has exited */ }
    await started.done;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGTERM with a stalled body in flight exits within the drain time, answering it 408", async () => {
  const dir = await makeTempDir();
  const started = await spawnService(dir, { env: { DRAIN_TIMEOUT_MS: "10000" } });
  const port = Number(new URL(started.url).port);
  const pair = await Deno.readTextFile(`${dir}/cert.pem`);
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [pair] });
  try {
    const body = JSON.stringify(makeHookRequest({ login: "stalled@example.com" }));
    await conn.write(new TextEncoder().encode(hookHead(body.length) + body.slice(0, 50)));
    const exchange = readUntilClosed(conn);
    // Signalled once the request has reached the handler: its log line is written at the end,
    // so wait for the body deadline's answer instead, after SIGTERM.
    const t0 = performance.now();
    started.child.kill("SIGTERM");
    const status = await withDeadline(started.child.status, 15_000, "the service to exit");
    const elapsed = performance.now() - t0;
    assert.equal(status.code, 0);
    assert.ok(elapsed < 10_000, `exited after ${elapsed.toFixed(0)} ms`);
    // Answered 408 when the request had reached the handler before the signal; closed unanswered
    // when it had not (Okta retries either way).
    const answer = await withDeadline(exchange, 5_000, "the answer");
    assert.ok(answer === "" || /^HTTP\/1\.1 408 /.test(answer), answer);
  } finally {
    try {
      conn.close();
    } catch { /* closed by the service */ }
    started.client.close();
    await started.done;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGHUP loads a renewed certificate without a restart", async () => {
  const dir = await makeTempDir();
  const started = await spawnService(dir);
  const port = Number(new URL(started.url).port);
  /** Whether a handshake trusting only `cert` succeeds: the service presents that one. */
  const presents = async (cert: string) => {
    try {
      const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [cert] });
      await conn.handshake();
      conn.close();
      return true;
    } catch {
      return false;
    }
  };
  try {
    const first = await Deno.readTextFile(`${dir}/cert.pem`);
    assert.equal(await presents(first), true);
    const renewed = await createSelfSignedCertificate();
    // Written elsewhere and renamed into place, as renewal clients do; then the HUP.
    await Deno.writeTextFile(`${dir}/cert.new`, renewed.cert);
    await Deno.writeTextFile(`${dir}/key.new`, renewed.key);
    await Deno.rename(`${dir}/key.new`, `${dir}/key.pem`);
    await Deno.rename(`${dir}/cert.new`, `${dir}/cert.pem`);
    const reloaded = started.nextLine(/Serving the new certificate/);
    started.child.kill("SIGHUP");
    await withDeadline(reloaded, 10_000, "the reload line");
    assert.equal(await presents(renewed.cert), true);
    assert.equal(await presents(first), false);
    started.child.kill("SIGTERM");
    assert.equal((await withDeadline(started.child.status, 20_000, "the service to exit")).code, 0);
  } finally {
    try {
      started.child.kill("SIGKILL");
    } catch { /* exited */ }
    started.client.close();
    await started.done;
    await Deno.remove(dir, { recursive: true });
  }
});
