import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  type FakeOkta,
  type FakeOktaOptions,
  makeUsers,
  startFakeOkta,
} from "../../tests/_fake_okta.ts";
import { runTask } from "../../tests/_run_task.ts";
import { makeTempDir } from "../../tests/_test_utils.ts";
import { withPostgresDatabase } from "../../tests/_postgres.ts";
import postgres from "postgres";

const TOKEN = "00cliToken-0123456789abcdef";

/** Runs `test` with a fake Okta and a temp dir for the index; cleans both up. */
async function withFake(
  options: Omit<FakeOktaOptions, "token">,
  test: (fake: FakeOkta, env: Record<string, string>, dbPath: string) => Promise<void>,
): Promise<void> {
  const dir = await makeTempDir("sync-cli-");
  const fake = await startFakeOkta({ token: TOKEN, ...options });
  const dbPath = `${dir}/hook.db`;
  try {
    await test(fake, { OKTA_ORG_URL: fake.url, OKTA_API_TOKEN: TOKEN, DB_PATH: dbPath }, dbPath);
  } finally {
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function logins(dbPath: string): Record<string, unknown>[] {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return db.prepare("SELECT login, owner, source, okta_user_id FROM logins ORDER BY login")
      .all().map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}

Deno.test("deno task sync --help prints the usage and exits 0", async () => {
  const result = await runTask("sync", ["--help"], {});
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^Usage: deno task sync \[--prune\]/);
  assert.match(result.stdout, /OKTA_API_TOKEN/);
});

Deno.test("deno task sync rejects an unknown argument with one line and exit code 2", async () => {
  const result = await runTask("sync", ["--prnue"], {});
  assert.equal(result.code, 2);
  assert.equal(result.stderr, "Unknown option '--prnue' (see --help)\n");
  const positional = await runTask("sync", ["extra"], {});
  assert.equal(positional.code, 2);
  assert.equal(positional.stderr.trim().split("\n").length, 1);
});

Deno.test("deno task sync refuses an OKTA_ORG_URL that is not https:// and exits 1", async () => {
  const result = await runTask("sync", [], {
    OKTA_ORG_URL: "http://acme.okta.com",
    OKTA_API_TOKEN: TOKEN,
  });
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    'Cannot read OKTA_ORG_URL: "http://acme.okta.com" does not start with https://\n',
  );
  const missing = await runTask("sync", [], { OKTA_ORG_URL: "https://acme.okta.com" });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Cannot read OKTA_API_TOKEN: it must be set/);
});

Deno.test("deno task sync loads every page and the deprovisioned users, printing counts and rate", async () => {
  const users = [...makeUsers(9), ...makeUsers(2, "DEPROVISIONED", 9)];
  await withFake({ users, pageSize: 2 }, async (fake, env, dbPath) => {
    const result = await runTask("sync", [], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      new RegExp(
        `^Synced ${dbPath} from ${fake.url} in \\d+\\.\\d s \\(\\d+ users/s\\): 11 users ` +
          `\\(2 deprovisioned\\), 11 added, 0 already present, 0 without a login\\n$`,
      ),
    );
    assert.match(result.stderr, /^\.\.\. 9 users in 5 pages \(plain list\): 9 added, /m);
    assert.match(result.stderr, /^\.\.\. 11 users in 6 pages \(DEPROVISIONED search\): /m);
    assert.equal(fake.requests.length, 6);
    const rows = logins(dbPath);
    assert.equal(rows.length, 11);
    assert.deepEqual(rows.find((r) => r.login === "user10@example.com"), {
      login: "user10@example.com",
      owner: '["okta","00u0010"]',
      source: "sync",
      okta_user_id: "00u0010",
    });
    assert.ok(!`${result.stdout}${result.stderr}`.includes(TOKEN));

    // Safe to run again: nothing new.
    const again = await runTask("sync", [], env);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /11 users \(2 deprovisioned\), 0 added, 11 already present/);
  });
});

Deno.test("deno task sync --prune releases a synced login that disappeared from Okta", async () => {
  await withFake({ users: makeUsers(3) }, async (fake, env, dbPath) => {
    assert.equal((await runTask("sync", [], env)).code, 0);
    fake.users = makeUsers(2);
    const without = await runTask("sync", [], env);
    assert.equal(without.code, 0);
    assert.equal(logins(dbPath).length, 3);
    const pruned = await runTask("sync", ["--prune"], env);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /, 1 released \(--prune\)\n$/);
    assert.deepEqual(logins(dbPath).map((r) => r.login), [
      "user0@example.com",
      "user1@example.com",
    ]);
  });
});

Deno.test("deno task sync stops with exit 1 naming OKTA_API_TOKEN when Okta refuses it", async () => {
  await withFake({ users: makeUsers(3) }, async (fake, env) => {
    const wrong = "00wrongToken-9876543210";
    const result = await runTask("sync", [], { ...env, OKTA_API_TOKEN: wrong });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `Cannot sync from ${fake.url}: Okta refused OKTA_API_TOKEN for GET /api/v1/users ` +
        "with 401 Unauthorized: Invalid token provided\n",
    );
    assert.equal(result.stdout, "");
    assert.ok(!result.stderr.includes(wrong));
    assert.equal(fake.requests.length, 1);
  });
});

Deno.test("deno task sync waits out a 429 until X-Rate-Limit-Reset, then finishes", async () => {
  await withFake({ users: makeUsers(3) }, async (fake, env, dbPath) => {
    fake.faults.push({ status: 429, resetInSeconds: 1 });
    const result = await runTask("sync", [], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /^\.\.\. Okta answered 429 Too Many Requests: waiting \d\.\d s for the reset$/m,
    );
    const [first, second] = fake.requests;
    assert.ok(second!.at - first!.at >= 900, `retried after ${second!.at - first!.at} ms`);
    assert.equal(logins(dbPath).length, 3);
  });
});

Deno.test("deno task sync retries a 500 and then completes", async () => {
  await withFake({ users: makeUsers(2) }, async (fake, env, dbPath) => {
    fake.faults.push({ status: 500 });
    const result = await runTask("sync", [], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^\.\.\. Okta failed GET \/api\/v1\/users: retrying in 1\.0 s$/m);
    assert.equal(logins(dbPath).length, 2);
  });
});

Deno.test("deno task sync loads, prunes and releases in PostgreSQL with DATABASE_URL", async () => {
  await withPostgresDatabase(async (url) => {
    await withFake({ users: makeUsers(3) }, async (fake, env) => {
      const pgEnv = { ...env, DATABASE_URL: url };
      const first = await runTask("sync", [], pgEnv);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^Synced postgres:\/\/.* 3 users \(0 deprovisioned\), 3 added/);
      fake.users = makeUsers(2);
      const pruned = await runTask("sync", ["--prune", "--release-unconfirmed-after", "1h"], pgEnv);
      assert.equal(pruned.code, 0, pruned.stderr);
      assert.match(pruned.stdout, /, 1 released \(--prune\)\n/);
      assert.match(pruned.stdout, /^No login the hook reserved more than 1h ago is unconfirmed$/m);
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      try {
        const rows = await sql`SELECT login, source, okta_status FROM logins ORDER BY login`;
        assert.deepEqual(rows.map((r) => ({ ...r })), [
          { login: "user0@example.com", source: "sync", okta_status: "ACTIVE" },
          { login: "user1@example.com", source: "sync", okta_status: "ACTIVE" },
        ]);
      } finally {
        await sql.end();
      }
    });
  });
});
