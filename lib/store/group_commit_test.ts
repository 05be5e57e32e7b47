import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openDatabase } from "./database.ts";
import { commitGroup } from "./group_commit.ts";
import { CommitError } from "./commit_error.ts";
import type { TransactionalDb } from "./database.ts";
import { LoginIndex } from "./sqlite_login_index.ts";
import { makeTempDir, reservation } from "../../tests/_test_utils.ts";

const AT = "2026-03-02T08:00:00.000Z";

/** Runs `test` with a migrated database, a second connection to the same file, and its index. */
async function withDatabase(
  test: (db: DatabaseSync, other: DatabaseSync, index: LoginIndex) => void,
): Promise<void> {
  const dir = await makeTempDir("group-commit-");
  const db = openDatabase(`${dir}/hook.db`);
  const other = new DatabaseSync(`${dir}/hook.db`);
  try {
    test(db, other, new LoginIndex(db));
  } finally {
    if (other.isOpen) other.close();
    if (db.isOpen) db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function reserve(index: LoginIndex, login: string): void {
  index.reserve(
    reservation(login, {
      owner: `owner-${login}`,
      requestedKey: login,
      strategy: "unchanged",
      source: "hook",
      at: AT,
    }),
  );
}

function logins(db: DatabaseSync): string[] {
  return db.prepare("SELECT login FROM logins ORDER BY login").all().map((row) =>
    String(row.login)
  );
}

Deno.test("commitGroup() returns only after COMMIT: inside, other connections see nothing", async () => {
  await withDatabase((db, other, index) => {
    const seen: string[] = [];
    const outcomes = commitGroup(db, [() => {
      reserve(index, "a@example.com");
      seen.push(`transaction ${db.isTransaction}`, `other sees ${logins(other).length}`);
      return "done";
    }]);
    assert.deepEqual(outcomes, [{ ok: true, value: "done" }]);
    assert.deepEqual(seen, ["transaction true", "other sees 0"]);
    assert.equal(db.isTransaction, false);
    assert.deepEqual(logins(other), ["a@example.com"]);
  });
});

Deno.test("commitGroup() runs the group in order in one transaction, each seeing the ones before", async () => {
  await withDatabase((db, _other, index) => {
    const statements: string[] = [];
    const traced: TransactionalDb = {
      exec: (sql: string) => (statements.push(sql), db.exec(sql)),
      get isTransaction() {
        return db.isTransaction;
      },
    };
    const seen: string[][] = [];
    const outcomes = commitGroup(
      traced,
      ["a", "b", "c"].map((name) => () => {
        reserve(index, `${name}@example.com`);
        seen.push(logins(db));
        return name;
      }),
    );
    assert.deepEqual(outcomes.map((o) => o.ok && o.value), ["a", "b", "c"]);
    assert.deepEqual(seen, [
      ["a@example.com"],
      ["a@example.com", "b@example.com"],
      ["a@example.com", "b@example.com", "c@example.com"],
    ]);
    assert.equal(statements.filter((s) => s === "COMMIT").length, 1);
    assert.equal(statements[0], "BEGIN IMMEDIATE");
  });
});

Deno.test("commitGroup() undoes only the writes of the work that threw", async () => {
  await withDatabase((_db, other, index) => {
    const boom = new Error("work failed");
    const outcomes = commitGroup(_db, [
      () => (reserve(index, "first@example.com"), 1),
      () => {
        reserve(index, "second@example.com");
        throw boom;
      },
      () => (reserve(index, "third@example.com"), 3),
    ]);
    assert.deepEqual(outcomes, [
      { ok: true, value: 1 },
      { ok: false, error: boom },
      { ok: true, value: 3 },
    ]);
    assert.deepEqual(logins(other), ["first@example.com", "third@example.com"]);
  });
});

Deno.test("commitGroup() throws CommitError when COMMIT fails, keeping none of the group's rows", async () => {
  await withDatabase((db, other, index) => {
    const diskFull = new Error("database or disk is full");
    let failures = 1;
    const statements: string[] = [];
    const flaky: TransactionalDb = {
      exec(sql: string) {
        statements.push(sql);
        if (sql === "COMMIT" && failures > 0) {
          failures--;
          throw diskFull;
        }
        return db.exec(sql);
      },
      get isTransaction() {
        return db.isTransaction;
      },
    };
    const group = [
      () => reserve(index, "one@example.com"),
      () => reserve(index, "two@example.com"),
    ];
    assert.throws(
      () => commitGroup(flaky, group),
      (error: unknown) =>
        error instanceof CommitError && error.name === "CommitError" &&
        error.message === "Could not commit 2 decision(s)" && error.cause === diskFull,
    );
    assert.equal(db.isTransaction, false);
    assert.deepEqual(logins(other), []);
    assert.deepEqual(statements, [
      "BEGIN IMMEDIATE",
      "SAVEPOINT work",
      "RELEASE work",
      "SAVEPOINT work",
      "RELEASE work",
      "COMMIT",
      "ROLLBACK",
    ]);
    // The failure was the group's alone: the same work commits normally next time.
    assert.deepEqual(commitGroup(flaky, group).map((o) => o.ok), [true, true]);
    assert.deepEqual(logins(other), ["one@example.com", "two@example.com"]);
  });
});

Deno.test("commitGroup() throws CommitError when another connection holds the write lock", async () => {
  await withDatabase((db, other, index) => {
    db.exec("PRAGMA busy_timeout = 0");
    other.exec("BEGIN IMMEDIATE");
    let ran = false;
    assert.throws(
      () => commitGroup(db, [() => (ran = true, reserve(index, "a@example.com"))]),
      (error: unknown) => error instanceof CommitError && /locked|busy/i.test(String(error.cause)),
    );
    assert.equal(ran, false);
    other.exec("ROLLBACK");
    assert.deepEqual(logins(other), []);
  });
});
