/**
 * One person, one login, on both engines, through the real server: Okta's own published sample
 * (which carries its id as `externalId`) keeps its login across import runs with no setting
 * changed, and a request reusing a decided eventId with another body never gets that answer.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import {
  assertLoginChanged,
  fixture,
  type HookBody,
  makeHookRequest,
  makeTempDir,
  startTestServer,
  type TestServer,
} from "./_test_utils.ts";
import { withPostgresDatabase } from "./_postgres.ts";
import { type FakeUser, startFakeOkta } from "./_fake_okta.ts";
import { runTask } from "./_run_task.ts";

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

const TOKEN = "00personToken-0123456789abcd";
/** An org where Pat left (deprovisioned) and Lee works; employeeNumber tells people apart. */
const ORG: FakeUser[] = [
  { id: "00uAdmin", status: "ACTIVE", login: "admin@example.com" },
  {
    id: "00uPatOld",
    status: "DEPROVISIONED",
    login: "pat.doe@example.com",
    profile: { employeeNumber: "N-100" },
  },
  {
    id: "00uLee",
    status: "ACTIVE",
    login: "lee.chan@example.com",
    profile: { employeeNumber: "N-200" },
  },
];
const PERSON = { PERSON_ATTRIBUTE: "employeeNumber" };

/** Pat comes back: a CREATE_USER whose login conflicts with her own old account. */
function patReturns(): HookBody {
  const body = makeHookRequest({
    login: "pat.doe@example.com",
    externalId: "E-PAT-2",
    middleName: "Quinn",
    conflicts: ["login"],
  });
  body.data.user.profile.employeeNumber = "N-100";
  return body;
}

/** Okta's matching links a newcomer named Lee Chan to the Lee who works here. */
function wrongLink(): HookBody {
  const body = makeHookRequest({
    login: "lee.chan@example.com",
    externalId: "E-LEE-NEW",
    middleName: "Min",
    action: "LINK_USER",
  });
  body.data.user.id = "00uLee";
  body.data.user.profile.employeeNumber = "N-999";
  return body;
}

/** The org synced into the index of `env`'s database, then `test` with a server on it. */
async function withSyncedOrg(
  env: Record<string, string>,
  test: (
    server: TestServer,
    rows: (sql: string) => Promise<Record<string, unknown>[]>,
    env: Record<string, string>,
  ) => Promise<void>,
): Promise<void> {
  const fake = await startFakeOkta({ token: TOKEN, users: ORG });
  try {
    const dir = await makeTempDir("person-");
    const db = { DB_PATH: `${dir}/hook.db`, ...env };
    const sync = await runTask("sync", [], {
      ...db,
      ...PERSON,
      OKTA_ORG_URL: fake.url,
      OKTA_API_TOKEN: TOKEN,
    });
    assert.equal(sync.code, 0, sync.stderr);
    const server = await startTestServer({ dir, env: db });
    const client = env.DATABASE_URL
      ? postgres(env.DATABASE_URL, { max: 1, onnotice: () => {} })
      : null;
    try {
      await test(
        server,
        async (sql) =>
          client === null
            ? server.db().prepare(sql).all().map((r) => ({ ...r }))
            : [...await client.unsafe(sql)],
        db,
      );
    } finally {
      await client?.end();
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  } finally {
    await fake.close();
  }
}

/** `test` on SQLite, then on PostgreSQL, each with `env`. */
async function bothEngines(
  env: Record<string, string>,
  test: Parameters<typeof withSyncedOrg>[1],
): Promise<void> {
  await withSyncedOrg(env, test);
  await withPostgresDatabase((url) => withSyncedOrg({ ...env, DATABASE_URL: url }, test));
}

const JUDGED = `SELECT original_login, outcome, person, holder_person, person_match, person_action,
  holder_okta_user_id FROM decisions WHERE person_match IS NOT NULL ORDER BY original_login`;

Deno.test("PERSON_MATCH=act links a returning person to their own account and refuses a wrong link, on both engines", async () => {
  await bothEngines({ ...PERSON, PERSON_MATCH: "act" }, async (server, rows, env) => {
    const back = await server.post(patReturns());
    assert.equal(back.status, 200);
    assert.deepEqual((await back.json()).commands, [
      { type: "com.okta.action.update", value: { result: "LINK_USER" } },
      { type: "com.okta.user.update", value: { id: "00uPatOld" } },
    ]);
    const refused = await server.post(wrongLink());
    assert.equal(refused.status, 200);
    assert.deepEqual((await refused.json()).commands, [
      { type: "com.okta.action.update", value: { result: "CREATE_USER" } },
      { type: "com.okta.user.profile.update", value: { login: "lee.min.chan@example.com" } },
    ]);
    assert.deepEqual(await rows(JUDGED), [
      {
        original_login: "lee.chan@example.com",
        outcome: "resolved",
        person: "N-999",
        holder_person: "N-200",
        person_match: "different",
        person_action: "refused_link",
        holder_okta_user_id: "00uLee",
      },
      {
        original_login: "pat.doe@example.com",
        outcome: "linked",
        person: "N-100",
        holder_person: "N-100",
        person_match: "same",
        person_action: "linked",
        holder_okta_user_id: "00uPatOld",
      },
    ]);
    // audit summary lists both first, with the holder's Okta user id and both values.
    const summary = await runTask("audit", ["summary"], env);
    assert.equal(summary.code, 0, summary.stderr);
    const lines = summary.stdout.split("\n");
    assert.match(lines[1]!, /^Wrong links and returning people \(PERSON_ATTRIBUTE\): 2 decisions$/);
    assert.match(
      summary.stdout,
      /pat\.doe@example\.com held by 00uPatOld: the same person returning \(N-100 \/ holder N-100\); linked to 00uPatOld/,
    );
    assert.match(
      summary.stdout,
      /lee\.chan@example\.com held by 00uLee: a link with another person \(N-999 \/ holder N-200\); link refused; created as lee\.min\.chan@example\.com/,
    );
  });
});

Deno.test("PERSON_MATCH=report records both judgements and changes no answer, on both engines", async () => {
  await bothEngines({ ...PERSON }, async (server, rows) => {
    await assertLoginChanged(await server.post(patReturns()), "pat.quinn.doe@example.com");
    assert.equal((await server.post(wrongLink())).status, 204);
    const judged = await rows(JUDGED);
    assert.deepEqual(
      judged.map((r) => [r.original_login, r.outcome, r.person_match, r.person_action]),
      [
        ["lee.chan@example.com", "skipped", "different", null],
        ["pat.doe@example.com", "resolved", "same", null],
      ],
    );
  });
});
