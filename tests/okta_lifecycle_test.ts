/**
 * What the Okta sync tells the hook about logins over time: the status of a conflicting login's
 * holder, and reservations Okta never confirmed. The real sync task, a fake Okta, the real service.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type FakeOkta, type FakeUser, startFakeOkta } from "./_fake_okta.ts";
import { runTask } from "./_run_task.ts";
import {
  assertLoginChanged,
  assertUnchanged,
  makeHookRequest,
  makeTempDir,
  startTestServer,
} from "./_test_utils.ts";

const TOKEN = "00lifecycleToken-0123456789ab";
const ADMIN: FakeUser = { id: "00uAdmin", status: "ACTIVE", login: "admin@example.com" };

/** A temp dir for the index and a fake Okta listing `users`; both cleaned up. */
async function withOrg(
  users: FakeUser[],
  test: (env: Record<string, string>, dir: string, fake: FakeOkta) => Promise<void>,
): Promise<void> {
  const dir = await makeTempDir("lifecycle-");
  const fake = await startFakeOkta({ token: TOKEN, users });
  try {
    await test(
      { OKTA_ORG_URL: fake.url, OKTA_API_TOKEN: TOKEN, DB_PATH: `${dir}/hook.db` },
      dir,
      fake,
    );
  } finally {
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a login held by a deprovisioned account: the decision records its status and audit summary lists it", async () => {
  const old: FakeUser = { id: "00uPatOld", status: "DEPROVISIONED", login: "pat.doe@example.com" };
  await withOrg([ADMIN, old], async (env, dir) => {
    const sync = await runTask("sync", [], env);
    assert.equal(sync.code, 0, sync.stderr);
    const server = await startTestServer({ dir });
    try {
      const body = makeHookRequest({
        login: "pat.doe@example.com",
        externalId: "E7",
        middleName: "Quinn",
        conflicts: ["login"],
      });
      await assertLoginChanged(await server.post(body), "pat.quinn.doe@example.com");
      const row = server.db().prepare(
        "SELECT holder_status, holder_okta_user_id FROM decisions",
      ).get();
      assert.deepEqual({ ...row }, { holder_status: "DEPROVISIONED", holder_okta_user_id: old.id });
    } finally {
      await server.close();
    }
    const summary = await runTask("audit", ["summary"], env);
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(
      summary.stdout,
      /^Conflicts with a deactivated or suspended account: 1 decision \(often the same person/m,
    );
    assert.match(
      summary.stdout,
      /^ {2}\S+Z {2}pat\.doe@example\.com is held by 00uPatOld \(DEPROVISIONED\); given pat\.quinn\.doe@example\.com$/m,
    );
  });
});

Deno.test("sync --release-unconfirmed-after lists hook reservations Okta never created; --confirm frees them", async () => {
  await withOrg([ADMIN], async (env, dir) => {
    let server = await startTestServer({ dir });
    try {
      // The hook reserved it, but the admin cleared the user from Okta's import queue.
      await assertUnchanged(
        await server.post(makeHookRequest({ login: "lee.cho@example.com", externalId: "E1" })),
      );
    } finally {
      await server.close();
    }
    const fresh = await runTask("sync", ["--release-unconfirmed-after", "14d"], env);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stdout, /^No login the hook reserved more than 14d ago is unconfirmed$/m);

    // Three weeks later.
    const db = new DatabaseSync(`${dir}/hook.db`);
    db.exec("UPDATE logins SET created_at = '2020-01-01T00:00:00.000Z' WHERE source = 'hook'");
    db.close();
    const listed = await runTask("sync", ["--release-unconfirmed-after", "14d"], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(
      listed.stdout,
      /^1 login the hook reserved more than 14d ago is held by no Okta user:\n {2}lee\.cho@example\.com {2}reserved 2020-01-01T00:00:00\.000Z {2}event evt-\S+\nNothing released: run again with --confirm to release them$/m,
    );
    const released = await runTask(
      "sync",
      ["--release-unconfirmed-after", "14d", "--confirm"],
      env,
    );
    assert.equal(released.code, 0, released.stderr);
    assert.match(released.stdout, /^Released 1: each owner's next import gets a login afresh/m);

    const summary = await runTask("audit", ["summary"], env);
    assert.match(
      summary.stdout,
      /^Released reservations: 1 login Okta never confirmed was released/m,
    );

    // Someone else may have the login now.
    server = await startTestServer({ dir });
    try {
      await assertUnchanged(
        await server.post(makeHookRequest({ login: "lee.cho@example.com", externalId: "E2" })),
      );
    } finally {
      await server.close();
    }
  });
});

Deno.test("sync --confirm without --release-unconfirmed-after is a usage error", async () => {
  const result = await runTask("sync", ["--confirm"], {});
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    "Option --confirm goes with --release-unconfirmed-after AGE (see --help)\n",
  );
  const bad = await runTask("sync", ["--release-unconfirmed-after", "2w"], {});
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--release-unconfirmed-after must be a number of days or hours/);
});
