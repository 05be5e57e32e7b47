import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { openDatabase } from "../store/database.ts";
import { sqliteQueryable } from "../store/queryable.ts";
import { LoginIndex } from "../store/sqlite_login_index.ts";
import type { LoginSource } from "../decision/records.ts";
import { OktaApiError, OktaClient, parseOktaEnv } from "./okta_api.ts";
import { SYNC_PASSES, syncLogins, userLogin } from "./sync_logins.ts";
import { oktaUserOwner } from "../decision/owner.ts";
import { type FakeOkta, makeUsers, startFakeOkta } from "../../tests/_fake_okta.ts";
import { makeTempDir, reservation } from "../../tests/_test_utils.ts";

const TOKEN = "00fakeToken-0123456789abcdef";
const RUN_1 = "2025-01-01T00:00:00.000Z";
const RUN_2 = "2025-01-02T00:00:00.000Z";

interface Setup {
  readonly fake: FakeOkta;
  readonly db: DatabaseSync;
  readonly client: OktaClient;
}

/** A fake Okta, a fresh database and a client whose waits return at once. */
async function withSetup(
  options: Parameters<typeof startFakeOkta>[0],
  test: (setup: Setup) => Promise<void>,
): Promise<void> {
  const dir = await makeTempDir("sync-");
  const fake = await startFakeOkta(options);
  const db = openDatabase(`${dir}/hook.db`);
  try {
    const target = parseOktaEnv({ OKTA_ORG_URL: fake.url, OKTA_API_TOKEN: TOKEN });
    const client = new OktaClient(target, { sleep: () => Promise.resolve() });
    await test({ fake, db, client });
  } finally {
    db.close();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
}

type Row = Record<string, unknown>;

function rows(db: DatabaseSync): Row[] {
  return db.prepare(
    `SELECT login_key, login, owner, requested_key, strategy, source, okta_user_id, seen_at,
            created_at FROM logins ORDER BY login_key`,
  ).all().map((row) => ({ ...row }));
}

function reserve(db: DatabaseSync, login: string, owner: string | null, source: LoginSource) {
  new LoginIndex(db).reserve(reservation(login, {
    owner,
    requestedKey: owner === null ? null : login.toLowerCase(),
    strategy: source === "seed" ? "seed" : "unchanged",
    source,
    at: "2024-12-31T00:00:00.000Z",
  }));
}

Deno.test("syncLogins() loads every user over several pages, deprovisioned users included", async () => {
  const users = [
    ...makeUsers(5),
    ...makeUsers(2, "SUSPENDED", 5),
    ...makeUsers(2, "DEPROVISIONED", 7),
  ];
  await withSetup({ token: TOKEN, users, pageSize: 2 }, async ({ fake, db, client }) => {
    const progress: string[] = [];
    const report = await syncLogins(sqliteQueryable(db), client, {
      startedAt: RUN_1,
      prune: false,
      onProgress: (p) => progress.push(`${p.pass}:${p.users}`),
    });
    assert.deepEqual(report, {
      pages: 5,
      users: 9,
      added: 9,
      updated: 0,
      withoutLogin: 0,
      deprovisioned: 2,
      pruned: null,
      pruneSkipped: null,
      unconfirmed: null,
      released: 0,
      releaseSkipped: null,
    });
    assert.deepEqual(progress, [
      "plain list:2",
      "plain list:4",
      "plain list:6",
      "plain list:7",
      "DEPROVISIONED search:9",
    ]);
    assert.deepEqual(rows(db)[0], {
      login_key: "user0@example.com",
      login: "user0@example.com",
      owner: JSON.stringify(["okta", "00u0000"]),
      requested_key: null,
      strategy: "sync",
      source: "sync",
      okta_user_id: "00u0000",
      seen_at: RUN_1,
      created_at: RUN_1,
    });
    assert.deepEqual(rows(db).map((r) => r.okta_user_id), users.map((u) => u.id));
    // The second pass asks for DEPROVISIONED users by search; the projection asks for less.
    assert.equal(fake.requests[0]!.url, SYNC_PASSES[0]!.path);
    assert.equal(
      fake.requests.at(-1)!.url,
      "/api/v1/users?search=status%20eq%20%22DEPROVISIONED%22&limit=200&fields=id%2Cstatus%2Cprofile%3A(login)",
    );
  });
});

Deno.test("syncLogins() keeps the owner of a login the hook or a seed recorded, adding Okta's id", async () => {
  const users = [
    { id: "00uA", status: "ACTIVE", login: "zoe.darcy@example.com" },
    { id: "00uB", status: "ACTIVE", login: "seeded@example.com" },
    { id: "00uC", status: "ACTIVE", login: "new@example.com" },
  ];
  await withSetup({ token: TOKEN, users }, async ({ db, client }) => {
    // Held by an app user; Okta spells it without the diaeresis but it is the same login.
    reserve(db, "Zoë.Darcy@example.com", '["0oaApp","E-17"]', "hook");
    reserve(db, "seeded@example.com", null, "seed");
    const report = await syncLogins(sqliteQueryable(db), client, {
      startedAt: RUN_1,
      prune: false,
    });
    assert.equal(report.added, 1);
    assert.equal(report.updated, 2);
    const byLogin = Object.fromEntries(rows(db).map((r) => [r.login, r]));
    assert.deepEqual(
      [byLogin["Zoë.Darcy@example.com"]!.owner, byLogin["Zoë.Darcy@example.com"]!.source],
      ['["0oaApp","E-17"]', "hook"],
    );
    assert.equal(byLogin["Zoë.Darcy@example.com"]!.okta_user_id, "00uA");
    assert.equal(byLogin["Zoë.Darcy@example.com"]!.seen_at, RUN_1);
    assert.deepEqual(
      [byLogin["seeded@example.com"]!.owner, byLogin["seeded@example.com"]!.strategy],
      [null, "seed"],
    );
    assert.equal(byLogin["seeded@example.com"]!.okta_user_id, "00uB");
    assert.equal(byLogin["new@example.com"]!.owner, oktaUserOwner("00uC"));
  });
});

Deno.test("syncLogins() run again adds nothing and marks every login seen by the new run", async () => {
  await withSetup({ token: TOKEN, users: makeUsers(3) }, async ({ db, client }) => {
    await syncLogins(sqliteQueryable(db), client, { startedAt: RUN_1, prune: false });
    const report = await syncLogins(sqliteQueryable(db), client, {
      startedAt: RUN_2,
      prune: false,
    });
    assert.equal(report.added, 0);
    assert.equal(report.updated, 3);
    assert.deepEqual(rows(db).map((r) => [r.seen_at, r.created_at]), [
      [RUN_2, RUN_1],
      [RUN_2, RUN_1],
      [RUN_2, RUN_1],
    ]);
  });
});

Deno.test("syncLogins() with prune releases only synced logins Okta no longer has", async () => {
  await withSetup({ token: TOKEN, users: makeUsers(3) }, async ({ fake, db, client }) => {
    await syncLogins(sqliteQueryable(db), client, { startedAt: RUN_1, prune: false });
    reserve(db, "hooked@example.com", '["0oaApp","E-1"]', "hook");
    reserve(db, "seeded@example.com", null, "seed");
    fake.users = makeUsers(2); // user2 is gone from Okta

    const kept = await syncLogins(sqliteQueryable(db), client, { startedAt: RUN_2, prune: false });
    assert.equal(kept.pruned, null);
    assert.equal(rows(db).length, 5);

    const pruned = await syncLogins(sqliteQueryable(db), client, { startedAt: RUN_2, prune: true });
    assert.equal(pruned.pruned, 1);
    assert.deepEqual(rows(db).map((r) => r.login), [
      "hooked@example.com",
      "seeded@example.com",
      "user0@example.com",
      "user1@example.com",
    ]);
  });
});

Deno.test("syncLogins() records each holder's Okta status, updating it on the next run", async () => {
  const users = [{ id: "00uA", status: "ACTIVE", login: "zoe.darcy@example.com" }];
  await withSetup({ token: TOKEN, users }, async ({ fake, db, client }) => {
    reserve(db, "Zoë.Darcy@example.com", '["0oaApp","E-17"]', "hook");
    await syncLogins(sqliteQueryable(db), client, { startedAt: RUN_1, prune: false });
    const status = () => db.prepare("SELECT okta_status AS s FROM logins").all().map((r) => r.s);
    assert.deepEqual(status(), ["ACTIVE"]);
    fake.users = [{ id: "00uA", status: "DEPROVISIONED", login: "zoe.darcy@example.com" }];
    await syncLogins(sqliteQueryable(db), client, { startedAt: RUN_2, prune: false });
    assert.deepEqual(status(), ["DEPROVISIONED"]);
    assert.deepEqual(
      { ...new LoginIndex(db).find("zoe.darcy@example.com") },
      {
        loginKey: "zoe.darcy@example.com",
        login: "Zoë.Darcy@example.com",
        owner: '["0oaApp","E-17"]',
        requestedKey: "zoë.darcy@example.com",
        strategy: "unchanged",
        source: "hook",
        oktaUserId: "00uA",
        oktaStatus: "DEPROVISIONED",
        person: null,
      },
    );
  });
});

Deno.test("syncLogins() lists, and when confirmed releases, old hook reservations no Okta user holds", async () => {
  const users = [{ id: "00uA", status: "ACTIVE", login: "held@example.com" }];
  await withSetup({ token: TOKEN, users }, async ({ db, client }) => {
    const index = new LoginIndex(db);
    const hook = (login: string, owner: string, at: string) =>
      index.reserve(reservation(login, {
        owner,
        requestedKey: login,
        strategy: "unchanged",
        source: "hook",
        eventId: `evt-${owner}`,
        at,
      }));
    hook("held@example.com", "E1", "2024-12-01T00:00:00.000Z"); // Okta created the user
    hook("cleared@example.com", "E2", "2024-12-01T00:00:00.000Z"); // cleared from the queue
    hook("recent@example.com", "E3", "2024-12-31T12:00:00.000Z"); // may still be pending
    reserve(db, "seeded@example.com", null, "seed"); // never a hook reservation
    const release = { reservedBefore: "2024-12-20T00:00:00.000Z", reason: "test", confirm: false };
    const listed = await syncLogins(sqliteQueryable(db), client, {
      startedAt: RUN_1,
      prune: false,
      release,
    });
    const expected = [{
      login: "cleared@example.com",
      owner: "E2",
      eventId: "evt-E2",
      reservedAt: "2024-12-01T00:00:00.000Z",
    }];
    assert.deepEqual(listed.unconfirmed, expected);
    assert.equal(listed.released, 0);
    assert.notEqual(index.find("cleared@example.com"), undefined);

    const done = await syncLogins(sqliteQueryable(db), client, {
      startedAt: RUN_2,
      prune: false,
      release: { ...release, confirm: true },
    });
    assert.deepEqual(done.unconfirmed, expected);
    assert.equal(done.released, 1);
    // Free again for whoever imports it next; the others stay reserved.
    assert.equal(index.find("cleared@example.com"), undefined);
    assert.deepEqual(rows(db).map((r) => r.login), [
      "held@example.com",
      "recent@example.com",
      "seeded@example.com",
    ]);
    assert.equal(rows(db)[0]!.okta_user_id, "00uA");
    assert.deepEqual(
      db.prepare("SELECT released_at, login, owner, event_id, reserved_at, reason FROM releases")
        .all().map((r) => ({ ...r })),
      [{
        released_at: RUN_2,
        login: "cleared@example.com",
        owner: "E2",
        event_id: "evt-E2",
        reserved_at: "2024-12-01T00:00:00.000Z",
        reason: "test",
      }],
    );
  });
});

Deno.test("syncLogins() releases nothing when Okta lists no users", async () => {
  await withSetup({ token: TOKEN, users: [] }, async ({ db, client }) => {
    reserve(db, "hooked@example.com", "E1", "hook");
    const report = await syncLogins(sqliteQueryable(db), client, {
      startedAt: RUN_1,
      prune: false,
      release: { reservedBefore: RUN_1, reason: "test", confirm: true },
    });
    assert.equal(report.unconfirmed, null);
    assert.equal(report.releaseSkipped, "Okta listed no users");
    assert.equal(rows(db).length, 1);
  });
});

Deno.test("syncLogins() prunes nothing when a pass fails, keeping the pages already written", async () => {
  const users = [...makeUsers(4), ...makeUsers(1, "DEPROVISIONED", 4)];
  await withSetup({ token: TOKEN, users, pageSize: 2 }, async ({ fake, db, client }) => {
    await syncLogins(sqliteQueryable(db), client, { startedAt: RUN_1, prune: false });
    // The first pass's two pages succeed, then the deprovisioned pass fails for good.
    const failing = new OktaClient(
      parseOktaEnv({ OKTA_ORG_URL: fake.url, OKTA_API_TOKEN: TOKEN }),
      {
        sleep: () => Promise.resolve(),
        fetch: (input, init) =>
          String(input).includes("DEPROVISIONED")
            ? Promise.resolve(new Response("{}", { status: 500 }))
            : fetch(input, init),
      },
    );
    await assert.rejects(
      syncLogins(sqliteQueryable(db), failing, { startedAt: RUN_2, prune: true }),
      (error: unknown) => error instanceof OktaApiError && error.status === 500,
    );
    assert.equal(rows(db).length, 5);
    assert.deepEqual(
      rows(db).map((r) => r.seen_at),
      [RUN_2, RUN_2, RUN_2, RUN_2, RUN_1],
    );
  });
});

Deno.test("syncLogins() does not prune when Okta lists no users (a wrong org would wipe the index)", async () => {
  await withSetup({ token: TOKEN, users: makeUsers(2) }, async ({ fake, db, client }) => {
    await syncLogins(sqliteQueryable(db), client, { startedAt: RUN_1, prune: false });
    fake.users = [];
    const report = await syncLogins(sqliteQueryable(db), client, { startedAt: RUN_2, prune: true });
    assert.equal(report.pruned, null);
    assert.equal(report.pruneSkipped, "Okta listed no users");
    assert.equal(rows(db).length, 2);
  });
});

Deno.test("userLogin() skips users without an id or a login, and keeps only a status-shaped status", () => {
  assert.deepEqual(userLogin({ id: "00u1", profile: { login: " a@b.c " } }), {
    id: "00u1",
    login: "a@b.c",
    status: null,
    person: null,
  });
  assert.deepEqual(
    userLogin({ id: "00u1", status: "DEPROVISIONED", profile: { login: "a@b.c" } }),
    {
      id: "00u1",
      login: "a@b.c",
      status: "DEPROVISIONED",
      person: null,
    },
  );
  assert.equal(
    userLogin({ id: "00u1", status: "<b>x", profile: { login: "a@b.c" } })?.status,
    null,
  );
  assert.equal(userLogin({ id: "00u1", profile: {} }), null);
  assert.equal(userLogin({ profile: { login: "a@b.c" } }), null);
  assert.equal(userLogin({ id: "00u1", profile: null }), null);
  assert.equal(userLogin("x"), null);
});

Deno.test("userLogin() reads the person attribute when one is set, as text", () => {
  const user = { id: "00u1", profile: { login: "a@b.c", employeeNumber: " N-1 ", n: 42 } };
  assert.equal(userLogin(user, "employeeNumber")?.person, "N-1");
  assert.equal(userLogin(user, "n")?.person, "42");
  assert.equal(userLogin(user, "missing")?.person, null);
  assert.equal(userLogin(user)?.person, null);
});
