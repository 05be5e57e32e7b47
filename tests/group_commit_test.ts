import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openDatabase } from "../lib/database.ts";
import { CommitError, GroupCommit, type TransactionalDb } from "../lib/group_commit.ts";
import { LoginIndex } from "../lib/login_index.ts";
import { makeTempDir } from "./_test_utils.ts";

const AT = "2026-03-02T08:00:00.000Z";

/** Runs `test` with a migrated database, a second connection to the same file, and its index. */
async function withDatabase(
  test: (db: DatabaseSync, other: DatabaseSync, index: LoginIndex) => Promise<void>,
): Promise<void> {
  const dir = await makeTempDir("group-commit-");
  const db = openDatabase(`${dir}/hook.db`);
  const other = new DatabaseSync(`${dir}/hook.db`);
  try {
    await test(db, other, new LoginIndex(db));
  } finally {
    if (other.isOpen) other.close();
    if (db.isOpen) db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function reserve(index: LoginIndex, login: string): void {
  index.reserve({
    login,
    owner: `owner-${login}`,
    requestedKey: login,
    strategy: "unchanged",
    source: "hook",
    eventId: null,
    at: AT,
  });
}

function logins(db: DatabaseSync): string[] {
  return db.prepare("SELECT login FROM logins ORDER BY login").all().map((row) =>
    String(row.login)
  );
}

Deno.test("GroupCommit settles a result only after its transaction is committed", async () => {
  await withDatabase(async (db, other, index) => {
    const events: string[] = [];
    const commit = new GroupCommit(db, {
      maxSize: 10,
      windowMs: 0,
      onGroup: (size, ok) => events.push(`group ${size} ${ok}`),
    });
    const result = commit.run(() => {
      reserve(index, "a@example.com");
      events.push(`inside: transaction ${db.isTransaction}`);
      events.push(`inside: other sees ${JSON.stringify(logins(other))}`);
      return "done";
    });
    const value = await result.then((v) => {
      events.push(`resolved: other sees ${JSON.stringify(logins(other))}`);
      return v;
    });
    assert.equal(value, "done");
    assert.deepEqual(events, [
      "inside: transaction true",
      "inside: other sees []",
      "group 1 true",
      'resolved: other sees ["a@example.com"]',
    ]);
    assert.equal(db.isTransaction, false);
    commit.close();
  });
});

Deno.test("GroupCommit runs work arriving together in one transaction, in order", async () => {
  await withDatabase(async (db, _other, index) => {
    const sizes: number[] = [];
    const commit = new GroupCommit(db, {
      maxSize: 10,
      windowMs: 20,
      onGroup: (size) => sizes.push(size),
    });
    const seen: string[][] = [];
    const results = await Promise.all(
      ["a", "b", "c"].map((name) =>
        commit.run(() => {
          reserve(index, `${name}@example.com`);
          // Each piece of work sees the reservations made before it in the same transaction.
          seen.push(logins(db));
          return name;
        })
      ),
    );
    assert.deepEqual(results, ["a", "b", "c"]);
    assert.deepEqual(sizes, [3]);
    assert.deepEqual(seen, [
      ["a@example.com"],
      ["a@example.com", "b@example.com"],
      ["a@example.com", "b@example.com", "c@example.com"],
    ]);
    commit.close();
  });
});

Deno.test("GroupCommit undoes only the writes of the work that threw", async () => {
  await withDatabase(async (db, other, index) => {
    const groups: string[] = [];
    const commit = new GroupCommit(db, {
      maxSize: 10,
      windowMs: 20,
      onGroup: (size, ok) => groups.push(`${size} ${ok}`),
    });
    const boom = new Error("work failed");
    const outcomes = await Promise.allSettled([
      commit.run(() => {
        reserve(index, "first@example.com");
        return 1;
      }),
      commit.run(() => {
        reserve(index, "second@example.com");
        throw boom;
      }),
      commit.run(() => {
        reserve(index, "third@example.com");
        return 3;
      }),
    ]);
    assert.deepEqual(outcomes, [
      { status: "fulfilled", value: 1 },
      { status: "rejected", reason: boom },
      { status: "fulfilled", value: 3 },
    ]);
    assert.strictEqual((outcomes[1] as PromiseRejectedResult).reason, boom);
    assert.deepEqual(groups, ["3 true"]);
    assert.deepEqual(logins(other), ["first@example.com", "third@example.com"]);
    commit.close();
  });
});

Deno.test("GroupCommit rejects every item with CommitError when COMMIT fails, keeping none of their rows", async () => {
  await withDatabase(async (db, other, index) => {
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
    const groups: string[] = [];
    const commit = new GroupCommit(flaky, {
      maxSize: 10,
      windowMs: 20,
      onGroup: (size, ok) => groups.push(`${size} ${ok}`),
    });
    const outcomes = await Promise.allSettled([
      commit.run(() => reserve(index, "one@example.com")),
      commit.run(() => reserve(index, "two@example.com")),
    ]);
    assert.equal(outcomes.length, 2);
    const reasons = outcomes.map((o) => (o as PromiseRejectedResult).reason);
    assert.deepEqual(outcomes.map((o) => o.status), ["rejected", "rejected"]);
    for (const reason of reasons) {
      assert.ok(reason instanceof CommitError);
      assert.equal(reason.name, "CommitError");
      assert.equal(reason.message, "Could not commit 2 decision(s)");
      assert.strictEqual(reason.cause, diskFull);
    }
    assert.deepEqual(groups, ["2 false"]);
    assert.equal(db.isTransaction, false);
    assert.deepEqual(logins(other), []);
    assert.deepEqual(logins(db), []);
    assert.deepEqual(statements, [
      "BEGIN IMMEDIATE",
      "SAVEPOINT work",
      "RELEASE work",
      "SAVEPOINT work",
      "RELEASE work",
      "COMMIT",
      "ROLLBACK",
    ]);

    // The failure was the group's alone: the next group commits normally.
    assert.equal(await commit.run(() => (reserve(index, "one@example.com"), "again")), "again");
    assert.deepEqual(logins(other), ["one@example.com"]);
    assert.deepEqual(groups, ["2 false", "1 true"]);
    commit.close();
  });
});

Deno.test("GroupCommit splits a burst into groups of at most maxSize", async () => {
  await withDatabase(async (db, other, index) => {
    const sizes: number[] = [];
    const commit = new GroupCommit(db, {
      maxSize: 2,
      windowMs: 50,
      onGroup: (size) => sizes.push(size),
    });
    const names = ["a", "b", "c", "d", "e"];
    const results = await Promise.all(
      names.map((name) => commit.run(() => (reserve(index, `${name}@example.com`), name))),
    );
    assert.deepEqual(results, names);
    assert.deepEqual(sizes, [2, 2, 1]);
    assert.equal(logins(other).length, 5);
    commit.close();
  });
});

Deno.test("GroupCommit.close() commits queued work at once and refuses new work", async () => {
  await withDatabase(async (db, other, index) => {
    const sizes: number[] = [];
    const commit = new GroupCommit(db, {
      maxSize: 10,
      windowMs: 10_000,
      onGroup: (size) => sizes.push(size),
    });
    const queued = [
      commit.run(() => (reserve(index, "a@example.com"), "a")),
      commit.run(() => (reserve(index, "b@example.com"), "b")),
    ];
    assert.deepEqual(logins(other), []);
    commit.close();
    // Committed synchronously by close(), long before the 10 s window.
    assert.deepEqual(sizes, [2]);
    assert.deepEqual(logins(other), ["a@example.com", "b@example.com"]);
    assert.deepEqual(await Promise.all(queued), ["a", "b"]);

    let ran = false;
    await assert.rejects(
      commit.run(() => {
        ran = true;
      }),
      (error: unknown) =>
        error instanceof CommitError && error.message === "The database is closing",
    );
    assert.equal(ran, false);
  });
});
