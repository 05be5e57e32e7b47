/**
 * What an attacker can send, against the real server over HTTPS: every value that becomes a key
 * is stored losslessly or refused, no header can cause a 5xx, nothing sent grows a log line, an
 * audit row or a reply without bound.
 */

import assert from "node:assert/strict";
import {
  assertOktaError,
  assertUnchanged,
  makeHookRequest,
  rawExchange,
  rawStatus,
  startTestServer,
  TEST_SECRET,
} from "./_test_utils.ts";
import { runTask } from "./_run_task.ts";

Deno.test("a NUL in a login is refused, so no one is handed another owner's login", async () => {
  const server = await startTestServer();
  try {
    const y = makeHookRequest({ login: "abc.def@nul.example", externalId: "Y" });
    await assertUnchanged(await server.post(y));
    const x = makeHookRequest({ login: "abc.def@nul.example\u0000zzz", externalId: "X" });
    const causes = await assertOktaError(
      await server.post(x),
      400,
      "Request body holds a value that cannot be used",
    );
    assert.deepEqual(causes.map((c) => [c.location, c.errorSummary]), [
      ["data.user.profile.login", "Holds a control character"],
    ]);
    // Sent again, it is refused again: nothing of it was stored.
    await assertOktaError(await server.post(x), 400, /cannot be used/);
    const rows = server.db().prepare("SELECT login, owner FROM logins").all();
    assert.deepEqual(rows.map((r) => r.login), ["abc.def@nul.example"]);
  } finally {
    await server.close();
  }
});

Deno.test("eventIds with lone surrogates are refused instead of colliding", async () => {
  const server = await startTestServer();
  try {
    for (const eventId of ["s\ud83d", "s\ud83e"]) {
      const body = makeHookRequest({ login: `${eventId.length}.x@example.com`, eventId });
      const causes = await assertOktaError(await server.post(body), 400, /cannot be used/);
      assert.equal(causes[0]!.location, "eventId");
    }
    const external = makeHookRequest({ login: "lone@example.com", externalId: "E\udc00" });
    await assertOktaError(await server.post(external), 400, /cannot be used/);
    const stored = server.db().prepare("SELECT count(*) AS n FROM decisions").get();
    assert.equal(stored?.n, 0);
    const refused = server.db().prepare("SELECT event_id FROM rejections").all();
    assert.deepEqual(refused.map((r) => r.event_id), [null, null, null]);
  } finally {
    await server.close();
  }
});

Deno.test("a malformed Host never causes a 5xx, and the Host cannot move the route", async () => {
  const server = await startTestServer();
  try {
    for (const host of ["[", "a b", "[::1", "a%zz", ":99999", "a?b", "a#b", "x@y"]) {
      const response = await rawExchange(
        server,
        `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(rawStatus(response), 200, `Host ${JSON.stringify(host)}: ${response}`);
    }
    const moved = await rawExchange(
      server,
      "POST /hooks/import HTTP/1.1\r\nHost: a/b\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert.equal(rawStatus(moved), 401, moved);
    for (const method of ["toString", "constructor", "__proto__"]) {
      const odd = await rawExchange(
        server,
        `${method} /hooks/import HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(rawStatus(odd), 405, `${method}: ${odd}`);
    }
  } finally {
    await server.close();
  }
});

Deno.test("request bodies never reach the rejections table or the reply in bulk", async () => {
  const server = await startTestServer();
  try {
    const personal = "priya.natarajan@ridgeline.example";
    await assertOktaError(
      await server.post(`{"eventId":"e1","login":"${personal}" oops`),
      400,
      "Request body is not valid JSON",
    );
    const foreign = { ...makeHookRequest({ login: "a@x.com" }), eventType: "x".repeat(250_000) };
    const response = await server.post(foreign);
    assert.equal(response.status, 400);
    assert.ok((await response.text()).length < 1_000);
    const rows = server.db().prepare("SELECT reason FROM rejections").all();
    assert.equal(rows.length, 2);
    for (const row of rows) {
      const reason = String(row.reason);
      assert.ok(!reason.includes(personal), reason);
      assert.ok(reason.length < 500, `a ${reason.length}-character reason`);
    }
  } finally {
    await server.close();
  }
});

Deno.test("a login over Okta's 100 characters is refused at parse, with a small reply", async () => {
  const server = await startTestServer();
  try {
    const login = `${"a".repeat(60_000)}@example.com`; // three copies fit in 256 KiB
    const response = await server.post(
      makeHookRequest({ login, conflicts: ["login"], middleName: "M".repeat(150) }),
    );
    const text = await response.text();
    assert.equal(response.status, 400);
    assert.ok(text.length < 1_000, `a ${text.length}-byte reply`);
    assert.match(text, /data\.user\.profile\.login/);
    const sizes = server.db().prepare(
      "SELECT max(length(reason)) AS reason FROM rejections",
    ).get();
    assert.ok(Number(sizes?.reason) < 500);
    const decisions = server.db().prepare("SELECT count(*) AS n FROM decisions").get();
    assert.equal(decisions?.n, 0);
  } finally {
    await server.close();
  }
});

Deno.test("a body that does not claim to be JSON is answered 415 and decides nothing", async () => {
  const server = await startTestServer();
  try {
    const body = JSON.stringify(makeHookRequest({ login: "plain@example.com" }));
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"]) {
      const response = await server.fetch("/hooks/import", {
        method: "POST",
        headers: { authorization: TEST_SECRET, "content-type": type },
        body,
      });
      const causes = await assertOktaError(
        response,
        415,
        "The request body must be application/json",
      );
      assert.equal(causes[0]!.location, "Content-Type");
    }
    const charset = await server.post(body, { "content-type": "Application/JSON; charset=utf-8" });
    assert.equal(charset.status, 204);
    await charset.body?.cancel();
    const stored = server.db().prepare("SELECT count(*) AS n FROM decisions").get();
    assert.equal(stored?.n, 1);
    const refused = server.db().prepare("SELECT status FROM rejections").all();
    assert.deepEqual(refused.map((r) => r.status), [415, 415, 415]);
  } finally {
    await server.close();
  }
});

Deno.test("a flood of unauthenticated requests writes a bounded number of rows, and admins still see it", async () => {
  const server = await startTestServer();
  try {
    const body = JSON.stringify(makeHookRequest({ login: "flood@example.com" }));
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(Array.from({ length: 50 }, async () => {
        const response = await server.post(body, { authorization: "" });
        assert.equal(response.status, 401);
        await response.body?.cancel();
      }));
    }
    await server.service.flushRefusals();
    const rows = server.db().prepare(
      "SELECT count(*) AS rows, sum(count) AS refused FROM rejections",
    ).get();
    assert.equal(rows?.refused, 1000);
    assert.ok(Number(rows?.rows) <= 2, `${rows?.rows} rows for 1000 refusals`);
    const byDay = server.db().prepare("SELECT status, rejections FROM rejections_by_day").all();
    assert.deepEqual(byDay.map((r) => [r.status, r.rejections]), [[401, 1000]]);
  } finally {
    await server.close();
  }
});

Deno.test("over HTTP/2 a refused 20 MB body gets a clean 413, and a refused secret a clean 401", async () => {
  const server = await startTestServer();
  try {
    const cert = `${server.dir}/cert.pem`;
    const big = `${server.dir}/big.json`;
    await Deno.writeTextFile(cert, server.service.certificate);
    await Deno.writeFile(big, new Uint8Array(20 * 1024 * 1024).fill(0x20));
    const curl = async (secret: string) => {
      const output = await new Deno.Command("curl", {
        args: [
          "-sS",
          "--http2",
          "--cacert",
          cert,
          "-H",
          `Authorization: ${secret}`,
          "-H",
          "Content-Type: application/json",
          "--data-binary",
          `@${big}`,
          "-w",
          "\n%{http_version} %{http_code}",
          `https://localhost:${server.service.addr.port}/hooks/import`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(output.stdout);
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      return text;
    };
    const large = await curl(TEST_SECRET);
    assert.match(large, /"errorSummary":"The request body is larger than 262144 bytes"/);
    assert.match(large, /\n2 413$/);
    const refused = await curl("wrong-secret-0123456789abcdef");
    assert.match(refused, /\n2 403$/);
  } finally {
    await server.close();
  }
});

Deno.test("behind a TLS-terminating proxy: plain HTTP on loopback, the client's address from trusted hops only", async () => {
  const server = await startTestServer({ env: { TLS: "off", TRUSTED_PROXIES: "127.0.0.1" } });
  try {
    const base = `http://127.0.0.1:${server.service.addr.port}`;
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const body = JSON.stringify(makeHookRequest({ login: "proxied@example.com" }));
    const refused = await fetch(`${base}/hooks/import`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-forwarded-for": "203.0.113.66, 198.51.100.7",
      },
      body,
    });
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    await server.service.flushRefusals();
    const rows = server.db().prepare("SELECT remote_addr FROM rejections").all();
    // The proxy (127.0.0.1, trusted) says it got the request from 198.51.100.7; that address
    // is not trusted, so what it claims (203.0.113.66) is not believed.
    assert.deepEqual(rows.map((r) => r.remote_addr), ["198.51.100.7"]);
    const ok = await fetch(`${base}/hooks/import`, {
      method: "POST",
      headers: { authorization: TEST_SECRET, "content-type": "application/json" },
      body,
    });
    assert.equal(ok.status, 204);
    await ok.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("a decision with no owner attribute is marked, counted and warned of in audit summary", async () => {
  const server = await startTestServer({ env: { METRICS_PORT: "0" } });
  try {
    const body = makeHookRequest({ login: "nobody.known@example.com", externalId: null });
    delete body.data.appUser.id;
    await assertUnchanged(await server.post(body));
    const row = server.db().prepare("SELECT owner, owner_source FROM decisions").get();
    assert.equal(row?.owner_source, "event");
    assert.match(String(row?.owner), /^\["event",/);
    const scrape = await fetch(`http://127.0.0.1:${server.service.metricsAddr!.port}/metrics`);
    assert.match(await scrape.text(), /okta_hook_owner_fallbacks_total\{source="event"\} 1/);
    const summary = await runTask("audit", ["summary"], { DB_PATH: server.dbPath });
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(summary.stdout, /^Warning: 1 decision had no OWNER_ATTRIBUTE value/m);
  } finally {
    await server.close();
  }
});
