/**
 * One person, one login, on both engines, through the real server: Okta's own published sample
 * (which carries its id as `externalId`) keeps its login across import runs with no setting
 * changed, and a request reusing a decided eventId with another body never gets that answer.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { fixture, type HookBody, startTestServer, type TestServer } from "./_test_utils.ts";
import { withPostgresDatabase } from "./_postgres.ts";

/** Runs `test` against a server on SQLite, then on PostgreSQL; `rows` queries its database. */
async function onBothEngines(
  test: (server: TestServer, rows: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<
    void
  >,
): Promise<void> {
  const sqlite = await startTestServer();
  try {
    await test(
      sqlite,
      (sql) => Promise.resolve(sqlite.db().prepare(sql).all().map((r) => ({ ...r }))),
    );
  } finally {
    await sqlite.close();
  }
  await withPostgresDatabase(async (url) => {
    const server = await startTestServer({ env: { DATABASE_URL: url } });
    const client = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await test(server, async (sql) => [...await client.unsafe(sql)]);
    } finally {
      await client.end();
      await server.close();
    }
  });
}

/** Okta's sample as a later import run sends it: a new event and job. */
function run(n: number): HookBody {
  const body = fixture("okta-reference-sample.json");
  body.eventId = `run-${n}-event`;
  body.data.context.job.id = `run-${n}-job`;
  return body;
}

Deno.test("Okta's published sample keeps one login for its person across import runs, on both engines", async () => {
  await onBothEngines(async (server, rows) => {
    const answers: string[] = [];
    const first = await server.post(fixture("okta-reference-sample.json"));
    assert.equal(first.status, 200);
    answers.push(await first.text());
    for (let n = 1; n <= 5; n++) {
      const response = await server.post(run(n));
      assert.equal(response.status, 200);
      answers.push(await response.text());
    }
    // Okta reports sally.admin@ taken and she has no middle name: the first free number, every run.
    const logins = answers.map((text) => JSON.parse(text).commands[0].value.login);
    assert.deepEqual(new Set(logins), new Set(["sally.admin2@clouditude.net"]));
    const held = await rows(
      "SELECT login FROM logins WHERE owner IS NOT NULL AND source = 'hook' ORDER BY login",
    );
    assert.deepEqual(held.map((r) => r.login), ["sally.admin2@clouditude.net"]);
    const owners = await rows("SELECT DISTINCT owner_source, owner_attribute FROM decisions");
    assert.deepEqual(owners, [{ owner_source: "attribute", owner_attribute: "externalId" }]);
  });
});

Deno.test("a decided eventId with another person's body gets its own answer, never the stored one, on both engines", async () => {
  await onBothEngines(async (server, rows) => {
    const sally = fixture("okta-reference-sample.json");
    const first = await (await server.post(sally)).text();
    // Another person under the same eventId, as an edited copy of Okta's sample would be.
    const bob = fixture("okta-reference-sample.json");
    bob.data.appUser.profile.externalId = "user999";
    bob.data.user.profile.login = "bob.other@clouditude.net";
    bob.data.context.conflicts = [];
    const second = await server.post(bob);
    assert.equal(second.status, 204, await second.clone().text());
    assert.notEqual(await second.text(), first);
    // Each retry still gets its own decision back, byte for byte.
    assert.equal(await (await server.post(sally)).text(), first);
    assert.equal((await server.post(bob)).status, 204);
    const decided = await rows(
      `SELECT final_login FROM decisions WHERE event_id = '${sally.eventId}' ORDER BY final_login`,
    );
    assert.deepEqual(decided.map((r) => r.final_login), [
      "bob.other@clouditude.net",
      "sally.admin2@clouditude.net",
    ]);
  });
});
