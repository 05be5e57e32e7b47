import assert from "node:assert/strict";
import { VERSION } from "../lib/version.ts";
import {
  assertLoginChanged,
  assertOktaError,
  assertUnchanged,
  fixture,
  makeHookRequest,
  makeTempDir,
  startTestServer,
  TEST_SECRET,
} from "./_test_utils.ts";

// The fixtures name their unique id column employeeId, as a CSV Directory app would.
const CSV_ENV = {};

Deno.test("POST /hooks/import answers 204 when nothing changes (fixture 01)", async () => {
  const server = await startTestServer({ env: CSV_ENV });
  try {
    await assertUnchanged(await server.post(fixture("01-create-user-no-conflict.json")));
    const row = server.db().prepare("SELECT * FROM decisions").get() as Record<string, unknown>;
    assert.equal(row.event_id, "dgPS3qsltliY_PnD5jATyo");
    assert.equal(row.outcome, "unchanged");
    assert.equal(row.original_login, "priya.natarajan@ridgeline.example");
    assert.equal(row.final_login, "priya.natarajan@ridgeline.example");
    assert.equal(row.external_id, "RL-004417");
    assert.equal(row.status, 204);
    assert.equal(row.response, null);
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import infixes the app user's middle name on a login conflict (fixture 02)", async () => {
  const server = await startTestServer({ env: CSV_ENV });
  try {
    const response = await server.post(fixture("02-login-conflict-middlename-in-appuser.json"));
    const body = await assertLoginChanged(response, "tobias.everett.whitfield@ridgeline.example");
    assert.deepEqual(body, {
      commands: [{
        type: "com.okta.user.profile.update",
        value: { login: "tobias.everett.whitfield@ridgeline.example" },
      }],
      debugContext: { outcome: "resolved", strategy: "middle_name" },
    });
    const row = server.db().prepare("SELECT * FROM decisions").get() as Record<string, unknown>;
    assert.equal(row.outcome, "resolved");
    assert.equal(row.strategy, "middle_name");
    assert.equal(row.job_id, "ij1EImFDAchMSo3XPUGh");
    assert.equal(row.app_id, "0oay4R1bMQCPua2KlzFi");
    assert.equal(row.final_login, "tobias.everett.whitfield@ridgeline.example");
    assert.equal(row.response, JSON.stringify(body));
    assert.match(String(row.received_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // The original login is recorded as held by someone else, the new one by this user.
    const logins = server.db().prepare("SELECT login, strategy FROM logins ORDER BY login").all();
    assert.deepEqual(logins.map((l) => ({ ...l })), [
      { login: "tobias.everett.whitfield@ridgeline.example", strategy: "middle_name" },
      { login: "tobias.whitfield@ridgeline.example", strategy: "okta_conflict" },
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import answers every shared fixture as designed", async () => {
  const server = await startTestServer({ env: CSV_ENV });
  try {
    await assertUnchanged(await server.post(fixture("01-create-user-no-conflict.json")));
    await assertLoginChanged(
      await server.post(fixture("02-login-conflict-middlename-in-appuser.json")),
      "tobias.everett.whitfield@ridgeline.example",
    );
    await assertLoginChanged(
      await server.post(fixture("03-login-conflict-middlename-only-in-user-profile.json")),
      "hannah.adaeze.okafor@ridgeline.example",
    );
    await assertLoginChanged(
      await server.post(fixture("04-login-conflict-no-middlename.json")),
      "liam.brennan2@ridgeline.example",
    );
    await assertUnchanged(await server.post(fixture("05-link-user-existing-match.json")));
    await assertLoginChanged(
      await server.post(fixture("06-login-conflict-accents-apostrophe-spaces.json")),
      "zoe.mary-kate.darcy-nunez@ridgeline.example",
    );
    await assertLoginChanged(
      await server.post(fixture("07-extra-unknown-fields.json")),
      "gregory.anders.lindqvist@ridgeline.example",
    );
    await assertLoginChanged(
      await server.post(fixture("08-null-profile-attributes.json")),
      "noor.haddad2@ridgeline.example",
    );
    await assertLoginChanged(
      await server.post(fixture("09-login-conflict-infix-exceeds-100-chars.json")),
      "maximilian.k.wolfeschlegelsteinhausen-bergerdorff@research-and-development.ridgeline.example",
    );
    const outcomes = server.db().prepare(
      "SELECT outcome, strategy, count(*) AS n FROM decisions GROUP BY 1, 2 ORDER BY 1, 2",
    ).all().map((r) => ({ ...r }));
    assert.deepEqual(outcomes, [
      { outcome: "resolved", strategy: "middle_initial", n: 1 },
      { outcome: "resolved", strategy: "middle_name", n: 4 },
      { outcome: "resolved", strategy: "numeric_suffix", n: 2 },
      { outcome: "skipped", strategy: null, n: 1 },
      { outcome: "unchanged", strategy: null, n: 1 },
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import leaves LINK_USER alone but notes the linked user's login", async () => {
  const server = await startTestServer({ env: CSV_ENV });
  try {
    await assertUnchanged(await server.post(fixture("05-link-user-existing-match.json")));
    const decision = server.db().prepare("SELECT outcome, reason FROM decisions").get();
    assert.deepEqual({ ...decision }, {
      outcome: "skipped",
      reason: "Action LINK_USER is left to Okta; only CREATE_USER is resolved",
    });
    // A later new user asking for that login must not get it.
    const response = await server.post(
      makeHookRequest({ login: "Marisol.Vega@ridgeline.example", middleName: "Luz" }),
    );
    await assertLoginChanged(response, "Marisol.luz.Vega@ridgeline.example");
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import resolves in-batch duplicates that Okta cannot see", async () => {
  const server = await startTestServer();
  try {
    const first = makeHookRequest({ login: "george.smith@example.com", middleName: "Alexander" });
    const second = makeHookRequest({ login: "george.smith@example.com", middleName: "Alexander" });
    const third = makeHookRequest({ login: "George.Smith@EXAMPLE.com", middleName: "Alexander" });
    const fourth = makeHookRequest({ login: "géorge.smith@example.com", middleName: "Anne" });
    await assertUnchanged(await server.post(first));
    await assertLoginChanged(await server.post(second), "george.alexander.smith@example.com");
    await assertLoginChanged(await server.post(third), "George.a.Smith@EXAMPLE.com");
    // Diacritics do not make a login different: géorge.smith is george.smith.
    await assertLoginChanged(await server.post(fourth), "géorge.anne.smith@example.com");
    const fifth = makeHookRequest({ login: "george.smith@example.com", middleName: "Alexander" });
    await assertLoginChanged(await server.post(fifth), "george.smith2@example.com");
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import never hands one login to two of 50 concurrent users", async () => {
  const server = await startTestServer();
  try {
    const requests = Array.from(
      { length: 50 },
      () => makeHookRequest({ login: "john.smith@example.com", middleName: "Paul" }),
    );
    const responses = await Promise.all(requests.map((r) => server.post(r)));
    const logins: string[] = [];
    for (const response of responses) {
      if (response.status === 204) {
        await response.body?.cancel();
        logins.push("john.smith@example.com");
      } else {
        assert.equal(response.status, 200);
        logins.push((await response.json()).commands[0].value.login);
      }
    }
    assert.equal(new Set(logins).size, 50);
    assert.deepEqual(
      [...logins].sort(),
      [
        "john.p.smith@example.com",
        "john.paul.smith@example.com",
        "john.smith@example.com",
        ...Array.from({ length: 47 }, (_, i) => `john.smith${i + 2}@example.com`),
      ].sort(),
    );
    const counts = server.db().prepare(
      "SELECT (SELECT count(*) FROM decisions) AS decisions, (SELECT count(*) FROM logins) AS logins",
    ).get();
    assert.deepEqual({ ...counts }, { decisions: 50, logins: 50 });
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import replays the identical reply for a repeated eventId", async () => {
  const server = await startTestServer({ env: CSV_ENV });
  try {
    const request = fixture("02-login-conflict-middlename-in-appuser.json");
    const first = await server.post(request);
    const firstBody = await first.text();
    // Okta's retry is the same call: the stored decision is sent again, byte for byte.
    const second = await server.post(request);
    assert.equal(second.status, first.status);
    assert.equal(await second.text(), firstBody);
    const count = () => ({
      ...server.db().prepare(
        "SELECT (SELECT count(*) FROM decisions) AS decisions, (SELECT count(*) FROM logins) AS logins",
      ).get(),
    });
    assert.deepEqual(count(), { decisions: 1, logins: 2 });
    // Under that eventId the same person with an edited body is decided on its own: they keep
    // the login they were given, and nothing new is reserved.
    request.data.appUser.profile.middleName = "Zed";
    const edited = await server.post(request);
    const editedBody = await edited.json();
    assert.equal(editedBody.commands[0].value.login, "tobias.everett.whitfield@ridgeline.example");
    assert.deepEqual(count(), { decisions: 2, logins: 2 });
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import replays a retry that arrives while the first attempt runs", async () => {
  const server = await startTestServer();
  try {
    const request = makeHookRequest({ login: "ann.lee@example.com", conflicts: ["login"] });
    const [a, b] = await Promise.all([server.post(request), server.post(request)]);
    const [bodyA, bodyB] = [await a.json(), await b.json()];
    assert.deepEqual(bodyA, bodyB);
    assert.equal(bodyA.commands[0].value.login, "ann.lakshmi.lee@example.com");
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import gives a re-run owner the login it was given before", async () => {
  const server = await startTestServer();
  try {
    await assertUnchanged(
      await server.post(makeHookRequest({ login: "kim.park@example.com", externalId: "E1" })),
    );
    const firstRun = makeHookRequest({
      login: "kim.park@example.com",
      externalId: "E2",
      middleName: "Soo",
      jobId: "job-1",
    });
    await assertLoginChanged(await server.post(firstRun), "kim.soo.park@example.com");
    // The next import run: new eventId, new job, even a new middle name; same person.
    const rerun = makeHookRequest({
      login: "kim.park@example.com",
      externalId: "E2",
      middleName: "Jin",
      jobId: "job-2",
    });
    await assertLoginChanged(await server.post(rerun), "kim.soo.park@example.com");
    // And the first owner keeps theirs, unchanged.
    await assertUnchanged(
      await server.post(makeHookRequest({ login: "kim.park@example.com", externalId: "E1" })),
    );
    const rows = server.db().prepare(
      "SELECT external_id, outcome, reused FROM decisions ORDER BY rowid",
    ).all().map((r) => ({ ...r }));
    assert.deepEqual(rows, [
      { external_id: "E1", outcome: "unchanged", reused: 0 },
      { external_id: "E2", outcome: "resolved", reused: 0 },
      { external_id: "E2", outcome: "resolved", reused: 1 },
      { external_id: "E1", outcome: "unchanged", reused: 1 },
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import counts ø, ł, ß and full-width letters as held, stricter than Okta's rule", async () => {
  const server = await startTestServer();
  try {
    // Held by earlier owners under spellings Okta may or may not count as the same login.
    for (
      const [login, id] of [
        ["Søren.Berg@example.com", "E1"],
        ["ann.łucja.lee@example.com", "E2"],
        ["ＭＡＸ.straße@example.com", "E3"],
      ]
    ) {
      await assertUnchanged(await server.post(makeHookRequest({ login: login!, externalId: id! })));
    }
    // An incoming login that matches one of them under the looser fold is a conflict...
    await assertLoginChanged(
      await server.post(
        makeHookRequest({ login: "soren.berg@example.com", externalId: "E4", middleName: "Kai" }),
      ),
      "soren.kai.berg@example.com",
    );
    await assertLoginChanged(
      await server.post(
        makeHookRequest({ login: "max.strasse@example.com", externalId: "E5", middleName: "Olaf" }),
      ),
      "max.olaf.strasse@example.com",
    );
    // ...and a candidate that matches one is taken: the middle initial comes next.
    await assertLoginChanged(
      await server.post(
        makeHookRequest({
          login: "ann.lee@example.com",
          externalId: "E6",
          middleName: "Łucja",
          conflicts: ["login"],
        }),
      ),
      "ann.l.lee@example.com",
    );
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import answers an Okta error when no candidate login can be built", async () => {
  const server = await startTestServer({ env: { RESOLUTION_STRATEGIES: "middle_name" } });
  try {
    const response = await server.post(
      makeHookRequest({ login: "liam.brennan@example.com", conflicts: ["login"], middleName: "" }),
    );
    const causes = await assertOktaError(
      response,
      200,
      'Could not derive a unique login for "liam.brennan@example.com": okta reported the login taken and no candidate is free',
    );
    assert.deepEqual(causes, [{
      errorSummary: "No middle name in the app user or Okta user profile",
      reason: "MISSING_MIDDLE_NAME",
      locationType: "body",
      location: "data.user.profile.login",
      domain: "import-hook",
    }]);
    const row = server.db().prepare("SELECT outcome, final_login FROM decisions").get();
    assert.deepEqual({ ...row }, { outcome: "unresolved", final_login: null });
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import refuses a missing secret with 401 and records only the rejection", async () => {
  const server = await startTestServer();
  try {
    const response = await server.post(makeHookRequest({ login: "a.b@example.com" }), {
      authorization: "",
    });
    const causes = await assertOktaError(response, 401, "Missing Authorization header");
    assert.equal(causes[0]?.locationType, "header");
    await server.service.flushRefusals();
    const rejection = server.db().prepare("SELECT * FROM rejections").get() as Record<
      string,
      unknown
    >;
    assert.equal(rejection.status, 401);
    assert.equal(rejection.reason, "Missing Authorization header");
    assert.equal(rejection.remote_addr, "127.0.0.1");
    assert.equal(rejection.path, "/hooks/import");
    const counts = server.db().prepare(
      "SELECT (SELECT count(*) FROM decisions) AS d, (SELECT count(*) FROM logins) AS l",
    ).get();
    assert.deepEqual({ ...counts }, { d: 0, l: 0 });
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import refuses a wrong secret with 403 and never stores it", async () => {
  const server = await startTestServer();
  try {
    const cases = [
      `${TEST_SECRET}x`,
      TEST_SECRET.slice(0, -1),
      `Bearer ${TEST_SECRET}`,
      TEST_SECRET.toUpperCase(),
    ];
    for (const wrong of cases) {
      const response = await server.post(makeHookRequest({ login: "a.b@example.com" }), {
        authorization: wrong,
      });
      await assertOktaError(response, 403, "Wrong Authorization header value");
    }
    await server.service.flushRefusals();
    const rows = server.db().prepare("SELECT * FROM rejections").all();
    // One row counts the refusals of one reason from one address in one minute.
    assert.equal(rows.reduce((sum, row) => sum + Number(row.count), 0), cases.length);
    assert.ok(rows.length <= 2, `${rows.length} rows`);
    const dump = JSON.stringify(rows);
    assert.ok(!dump.includes(TEST_SECRET.slice(0, 12)), "the rejection holds no secret");
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import reads the secret from HOOK_AUTH_HEADER and accepts rotated secrets", async () => {
  const next = "next-secret-abcdefghijklmnop";
  const server = await startTestServer({
    env: { HOOK_AUTH_HEADER: "X-Hook-Secret", HOOK_AUTH_SECRET: `${TEST_SECRET}, ${next}` },
  });
  try {
    const body = () => makeHookRequest({ login: `u${crypto.randomUUID()}@example.com` });
    await assertUnchanged(await server.post(body(), { "x-hook-secret": TEST_SECRET }));
    await assertUnchanged(await server.post(body(), { "x-hook-secret": next }));
    // The secret in the wrong header does not count.
    await assertOktaError(
      await server.post(body(), { authorization: TEST_SECRET }),
      401,
      "Missing X-Hook-Secret header",
    );
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import answers 400 with the JSON path of each malformed input", async () => {
  const server = await startTestServer();
  try {
    const valid = makeHookRequest({ login: "a.b@example.com" });
    const cases: [string, unknown, string, string][] = [
      ["empty body", "", "Request body is not valid JSON", ""],
      ["truncated JSON", '{"eventType":', "Request body is not valid JSON", ""],
      ["a JSON array", [], "Request body is not a valid import hook request", ""],
      ["JSON null", "null", "Request body is not a valid import hook request", ""],
      ["no eventType", { ...valid, eventType: undefined }, "", "eventType"],
      [
        "another event type",
        { ...valid, eventType: "com.okta.oauth2.tokens.transform" },
        "",
        "eventType",
      ],
      ["no eventId", { ...valid, eventId: undefined }, "", "eventId"],
      ["numeric eventId", { ...valid, eventId: 42 }, "", "eventId"],
      ["no data", { ...valid, data: undefined }, "", "data"],
      ["data a string", { ...valid, data: "x" }, "", "data"],
      [
        "conflicts not an array",
        {
          ...valid,
          data: { ...valid.data, context: { ...valid.data.context, conflicts: "login" } },
        },
        "",
        "data.context.conflicts",
      ],
      [
        "profile an array",
        {
          ...valid,
          data: { ...valid.data, user: { profile: ["login"] } },
        },
        "",
        "data.user.profile",
      ],
      [
        "CREATE_USER without login",
        {
          ...valid,
          data: { ...valid.data, user: { profile: { email: "a@b.c" } } },
        },
        "",
        "data.user.profile.login",
      ],
      [
        "login a number",
        {
          ...valid,
          data: { ...valid.data, user: { profile: { login: 5 } } },
        },
        "",
        "data.user.profile.login",
      ],
    ];
    for (const [name, body, summary, location] of cases) {
      const response = await server.post(body as string);
      const causes = await assertOktaError(
        response,
        400,
        summary || "Request body is not a valid import hook request",
      );
      assert.ok(causes.length > 0, name);
      assert.equal(causes[0]!.location, location, name);
      assert.equal(causes[0]!.locationType, "body", name);
      assert.match(causes[0]!.reason!, /^INVALID_(JSON|PAYLOAD)$/, name);
    }
    const rejections = server.db().prepare("SELECT count(*) AS n FROM rejections").get();
    assert.equal(rejections?.n, cases.length);
    const decisions = server.db().prepare("SELECT count(*) AS n FROM decisions").get();
    assert.equal(decisions?.n, 0);
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import survives deep nesting, bad UTF-8 and __proto__ keys", async () => {
  const server = await startTestServer();
  try {
    const deep = `{"eventType":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    await assertOktaError(await server.post(deep), 400, /^Request body is not/);
    const badUtf8 = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const utf8Response = await server.fetch("/hooks/import", {
      method: "POST",
      headers: { authorization: TEST_SECRET, "content-type": "application/json" },
      body: badUtf8,
    });
    await assertOktaError(utf8Response, 400, "The request body is not valid UTF-8");
    const sneaky = makeHookRequest({ login: "p.q@example.com", externalId: null });
    const text = JSON.stringify(sneaky).replace(
      '"userName"',
      '"__proto__":{"employeeId":"victim","middleName":"x"},"userName"',
    );
    await assertUnchanged(await server.post(text));
    const row = server.db().prepare("SELECT external_id FROM decisions").get();
    assert.equal(row?.external_id, null);
    // Still serving afterwards.
    const health = await server.fetch("/healthz");
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok", version: VERSION });
  } finally {
    await server.close();
  }
});

Deno.test("POST /hooks/import refuses a body over the limit with 413 before reading it all", async () => {
  const server = await startTestServer();
  try {
    const declared = await server.post("x".repeat(300 * 1024));
    await assertOktaError(declared, 413, "The request body is larger than 262144 bytes");
    // A chunked body with no Content-Length that would go on for 20 MB.
    let sent = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 20 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    // Over HTTP/1.1 the body is cut off; over HTTP/2 it is read and dropped (see hostile tests).
    const http1 = Deno.createHttpClient({ caCerts: [server.service.certificate], http2: false });
    try {
      const response = await fetch(`${server.url}/hooks/import`, {
        client: http1,
        method: "POST",
        headers: { authorization: TEST_SECRET, "content-type": "application/json" },
        body: stream,
      });
      await assertOktaError(response, 413, "The request body is larger than 262144 bytes");
      assert.ok(sent < 20 * 1024 * 1024, `stopped early, after ${sent} bytes`);
    } finally {
      http1.close();
    }
  } finally {
    await server.close();
  }
});

Deno.test("Other methods get 405, unknown paths 404, GET /healthz 200", async () => {
  const server = await startTestServer();
  try {
    const get = await server.fetch("/hooks/import");
    await assertOktaError(get, 405, "Method GET is not allowed on /hooks/import; use POST");
    assert.equal(get.headers.get("allow"), "POST");
    const put = await server.fetch("/hooks/import", { method: "PUT", body: "{}" });
    await assertOktaError(put, 405, "Method PUT is not allowed on /hooks/import; use POST");
    await assertOktaError(await server.fetch("/nope"), 404, "No route for /nope");
    await assertOktaError(
      await server.fetch("/hooks/import/", { method: "POST" }),
      404,
      "No route for /hooks/import/",
    );
    const postHealth = await server.fetch("/healthz", { method: "POST" });
    await assertOktaError(postHealth, 405, "Method POST is not allowed on /healthz; use GET, HEAD");
    const head = await server.fetch("/healthz", { method: "HEAD" });
    assert.equal(head.status, 200);
    const health = await server.fetch("/healthz");
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok", version: VERSION });
  } finally {
    await server.close();
  }
});

Deno.test("Two services sharing one database file never hand out the same login", async () => {
  const dir = await makeTempDir();
  const a = await startTestServer({ dir });
  const b = await startTestServer({ dir });
  try {
    const requests = Array.from(
      { length: 40 },
      () => makeHookRequest({ login: "lee.wong@example.com", middleName: null }),
    );
    const responses = await Promise.all(
      requests.map((request, i) => (i % 2 === 0 ? a : b).post(request)),
    );
    const logins = await Promise.all(responses.map(async (response) => {
      if (response.status === 204) {
        await response.body?.cancel();
        return "lee.wong@example.com";
      }
      assert.equal(response.status, 200);
      return (await response.json()).commands[0].value.login as string;
    }));
    assert.equal(new Set(logins).size, 40);
    // No middle name anywhere: the first keeps the login, the rest get numbers 2..40.
    assert.deepEqual(
      [...logins].sort(),
      [
        "lee.wong@example.com",
        ...Array.from({ length: 39 }, (_, i) => `lee.wong${i + 2}@example.com`),
      ].sort(),
    );
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("POST /hooks/import answers 503 while another process holds the write lock, and the retry succeeds", async () => {
  const server = await startTestServer({ busyTimeoutMs: 50 });
  try {
    const other = server.db();
    other.exec("BEGIN EXCLUSIVE");
    const request = makeHookRequest({ login: "busy.person@example.com", conflicts: ["login"] });
    const refused = await server.post(request);
    await assertOktaError(refused, 503, "Temporary failure storing the decision; retry");
    assert.equal(refused.headers.get("retry-after"), "1");
    other.exec("ROLLBACK");
    // Nothing of the failed attempt was kept: Okta's retry is decided afresh.
    const counts = other.prepare(
      "SELECT (SELECT count(*) FROM decisions) AS d, (SELECT count(*) FROM logins) AS l",
    ).get();
    assert.deepEqual({ ...counts }, { d: 0, l: 0 });
    await assertLoginChanged(await server.post(request), "busy.lakshmi.person@example.com");
  } finally {
    await server.close();
  }
});
