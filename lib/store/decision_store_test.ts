import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openDatabase } from "./database.ts";
import { CommitError } from "./commit_error.ts";
import type { DecisionStore } from "./decision_store.ts";
import { openSqliteStore } from "./sqlite_store.ts";
import type { StoreSettings } from "./worker_protocol.ts";
import type { HookEvent } from "../decision/hook_event.ts";
import { hookEvent, makeTempDir } from "../../tests/_test_utils.ts";

const AT = "2026-03-02T08:00:00.000Z";
const TIMING = { receivedAt: AT, elapsedMs: 0.5 };
const SCENARIO = new URL("../../tests/_worker_crash_scenario.ts", import.meta.url).pathname;

/** A CREATE_USER event for `login` from app user `n`, who has no middle name. */
function event(n: number, login = "john.smith@example.com"): HookEvent {
  return hookEvent({
    eventId: `evt-${n}`,
    login,
    owner: JSON.stringify(["0oaApp", "externalId", `E${n}`]),
    externalId: `E${n}`,
    middleName: null,
  });
}

interface Harness {
  readonly store: DecisionStore;
  readonly groups: string[];
  /** A second connection to the same file, as another process would have. */
  readonly other: DatabaseSync;
}

/** Runs `test` with a store on a fresh database file, closing both afterwards. */
async function withStore(
  settings: Partial<StoreSettings>,
  test: (h: Harness) => Promise<void>,
): Promise<void> {
  const dir = await makeTempDir("store-");
  const dbPath = `${dir}/hook.db`;
  const groups: string[] = [];
  const store = await openSqliteStore({
    dbPath,
    busyTimeoutMs: 600,
    strategies: ["middle_name", "middle_initial", "numeric_suffix"],
    groupCommitMax: 256,
    groupCommitWindowMs: 0,
    answerDeadlineMs: 1000,
    ...settings,
  }, { onGroup: (size, ok) => groups.push(`${size} ${ok ? "committed" : "failed"}`) });
  const other = new DatabaseSync(dbPath);
  try {
    await test({ store, groups, other });
  } finally {
    await store.close();
    other.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function rows(db: DatabaseSync, sql: string): unknown[] {
  return db.prepare(sql).all().map((row) => ({ ...row }));
}

Deno.test("decide() settles after its group is committed: another connection already sees the login and the audit row", async () => {
  await withStore({}, async ({ store, other }) => {
    const decided = await store.decide(event(1), TIMING);
    assert.equal(decided.outcome, "unchanged");
    assert.equal(decided.replayed, false);
    assert.deepEqual(rows(other, "SELECT login FROM logins"), [{
      login: "john.smith@example.com",
    }]);
    assert.deepEqual(rows(other, "SELECT event_id, outcome FROM decisions"), [{
      event_id: "evt-1",
      outcome: "unchanged",
    }]);
  });
});

Deno.test("a decision alone in flight is committed on this thread, durable when it settles", async () => {
  await withStore({}, async ({ store, groups, other }) => {
    const alone = { ...TIMING, alone: true };
    const decided = await store.decide(event(1), alone);
    assert.equal(decided.outcome, "unchanged");
    assert.deepEqual(rows(other, "SELECT event_id, outcome FROM decisions"), [{
      event_id: "evt-1",
      outcome: "unchanged",
    }]);
    // The next one sees it, as it would in the worker: one login, one owner.
    const second = await store.decide(event(2), alone);
    assert.equal(second.outcome, "resolved");
    assert.equal((await store.decide(event(1), alone)).replayed, true);
    assert.deepEqual(groups, ["1 committed", "1 committed", "1 committed"]);
  });
});

Deno.test("a decision alone in flight never waits on this thread for a lock held elsewhere", async () => {
  await withStore({ busyTimeoutMs: 4000, answerDeadlineMs: 5000 }, async ({ store, other }) => {
    other.exec("BEGIN IMMEDIATE");
    // On this thread the lock cannot be let go while it waits: had it waited its busy timeout
    // (4 s), the call would return only then. It returns at once and the worker waits instead.
    const started = performance.now();
    const pending = store.decide(event(1), { ...TIMING, alone: true });
    const blockedMs = performance.now() - started;
    assert.ok(blockedMs < 2000, `decide() held this thread ${blockedMs.toFixed(0)} ms`);
    other.exec("ROLLBACK");
    assert.equal((await pending).outcome, "unchanged");
    assert.equal(rows(other, "SELECT event_id FROM decisions").length, 1);
  });
});

Deno.test("decisions queued while a group is committed form the next group, and never share a login", async () => {
  await withStore({}, async ({ store, groups, other }) => {
    // The first finds the worker idle and goes at once; the other 19 wait for it, then go together.
    const decided = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.decide(event(i), TIMING)),
    );
    assert.deepEqual(groups, ["1 committed", "19 committed"]);
    assert.deepEqual(decided.map((d) => d.outcome), [
      "unchanged",
      ...Array(19).fill("resolved"),
    ]);
    const logins = rows(other, "SELECT login FROM logins") as { login: string }[];
    assert.equal(logins.length, 20);
    assert.equal(new Set(logins.map((l) => l.login)).size, 20);
    assert.equal(rows(other, "SELECT event_id FROM decisions").length, 20);
  });
});

Deno.test("groups never exceed groupCommitMax", async () => {
  await withStore({ groupCommitMax: 4 }, async ({ store, groups }) => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.decide(event(i), TIMING)));
    assert.deepEqual(groups, ["1 committed", "4 committed", "4 committed", "1 committed"]);
  });
});

Deno.test("with a window, a request at an idle store waits that long for company, and its duration counts the wait", async () => {
  await withStore({ groupCommitWindowMs: 40 }, async ({ store, groups, other }) => {
    const first = store.decide(event(1), TIMING);
    // Later turns of the event loop, well inside the window: nothing has been sent yet.
    await Promise.resolve();
    assert.deepEqual(groups, []);
    const rest = [store.decide(event(2), TIMING), store.decide(event(3), TIMING)];
    await Promise.all([first, ...rest]);
    assert.deepEqual(groups, ["3 committed"]);
    const { ms } = other.prepare("SELECT duration_ms AS ms FROM decisions WHERE event_id = 'evt-1'")
      .get() as { ms: number };
    assert.ok(ms >= 35, `duration_ms ${ms} should include the ~40 ms spent queued`);
  });
});

Deno.test("a replayed eventId gets the stored reply and reserves nothing", async () => {
  await withStore({}, async ({ store, other }) => {
    const first = await store.decide(event(1), TIMING);
    const again = await store.decide(event(1), TIMING);
    assert.deepEqual(again, { ...first, replayed: true });
    assert.equal(rows(other, "SELECT login FROM logins").length, 1);
  });
});

Deno.test("a group that cannot be committed rejects each of its items with CommitError and keeps nothing", async () => {
  await withStore({ busyTimeoutMs: 0 }, async ({ store, groups, other }) => {
    other.exec("BEGIN IMMEDIATE"); // another process holds the write lock
    const outcomes = await Promise.allSettled([
      store.decide(event(1), TIMING),
      store.decide(event(2), TIMING),
      store.recordRejection({
        receivedAt: AT,
        status: 401,
        reason: "Missing Authorization header",
        remoteAddr: "127.0.0.1",
        method: "POST",
        path: "/hooks/import",
        eventId: null,
      }),
    ]);
    other.exec("ROLLBACK");
    for (const outcome of outcomes) {
      assert.equal(outcome.status, "rejected");
      const reason = (outcome as PromiseRejectedResult).reason;
      assert.ok(reason instanceof CommitError, String(reason));
      assert.match(String(reason.cause), /locked|busy/i);
    }
    assert.deepEqual(groups, ["1 failed", "2 failed"]);
    assert.deepEqual(rows(other, "SELECT login FROM logins"), []);
    assert.deepEqual(rows(other, "SELECT event_id FROM decisions"), []);
    assert.deepEqual(rows(other, "SELECT id FROM rejections"), []);

    // Okta's retry of the same event then succeeds.
    assert.equal((await store.decide(event(1), TIMING)).outcome, "unchanged");
    assert.equal(rows(other, "SELECT event_id FROM decisions").length, 1);
  });
});

Deno.test("while another process holds the write lock, every decision is answered by its deadline", async () => {
  const deadline = 1000;
  await withStore(
    { busyTimeoutMs: 600, answerDeadlineMs: deadline },
    async ({ store, groups, other }) => {
      other.exec("BEGIN IMMEDIATE"); // held for as long as the test likes
      const started = performance.now();
      const settled = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.decide(event(i), TIMING).then(
            () => ({ ok: true, ms: performance.now() - started }),
            (error: unknown) => ({
              ok: error instanceof CommitError,
              ms: performance.now() - started,
            }),
          )),
      );
      other.exec("ROLLBACK");
      // Every answer is a CommitError (503 for Okta), none waited two lock timeouts in a row.
      assert.ok(settled.every((s) => s.ok), JSON.stringify(settled));
      const slowest = Math.max(...settled.map((s) => s.ms));
      assert.ok(slowest < deadline + 250, `the slowest answer took ${slowest.toFixed(0)} ms`);
      assert.equal((await store.decide(event(1), TIMING)).outcome, "unchanged");
      // Only the first group reached the database while it was locked; the rest were refused
      // before waiting on it. (Its item was answered at its deadline, before the group came back.)
      assert.deepEqual(groups, ["1 failed", "1 committed"]);
    },
  );
});

Deno.test("recordRejection() writes the refusal without a decision", async () => {
  await withStore({}, async ({ store, other }) => {
    await store.recordRejection({
      receivedAt: AT,
      status: 403,
      reason: "Wrong Authorization header value",
      remoteAddr: "127.0.0.1",
      method: "POST",
      path: "/hooks/import",
      eventId: "evt-9",
    });
    assert.deepEqual(rows(other, "SELECT status, reason, event_id FROM rejections"), [{
      status: 403,
      reason: "Wrong Authorization header value",
      event_id: "evt-9",
    }]);
    assert.deepEqual(rows(other, "SELECT event_id FROM decisions"), []);
  });
});

Deno.test("close() commits what is queued, then refuses new work and reports unhealthy", async () => {
  await withStore({}, async ({ store, other }) => {
    assert.deepEqual(await store.health(), { ok: true });
    const queued = [1, 2, 3].map((n) => store.decide(event(n), TIMING));
    await store.close();
    assert.equal((await Promise.all(queued)).length, 3);
    assert.equal(rows(other, "SELECT event_id FROM decisions").length, 3);
    await assert.rejects(
      store.decide(event(4), TIMING),
      (error: unknown) => error instanceof CommitError && /closing/.test(error.message),
    );
    assert.equal((await store.health()).ok, false);
  });
});

Deno.test("openSqliteStore() rejects with the reason when the database cannot be used", async () => {
  const dir = await makeTempDir("store-");
  try {
    const db = openDatabase(`${dir}/hook.db`);
    db.exec("PRAGMA user_version = 99");
    db.close();
    await assert.rejects(
      openSqliteStore({
        dbPath: `${dir}/hook.db`,
        busyTimeoutMs: 0,
        strategies: ["middle_name"],
        groupCommitMax: 8,
        groupCommitWindowMs: 0,
        answerDeadlineMs: 1000,
      }),
      /schema version 99 is newer than this service's/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a worker that dies fails its group and every later item with CommitError, and reports it", async () => {
  // In a process of its own: Deno prints the worker's uncaught error, which is checked here.
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", SCENARIO],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.match(stderr, /Uncaught \(in worker ""\) Error: worker crashed/);
  const seen = JSON.parse(new TextDecoder().decode(output.stdout));
  const failed = /^CommitError: The database worker failed: .*worker crashed/;
  assert.equal(seen.grouped.length, 2);
  for (const each of seen.grouped) assert.match(each, failed);
  assert.match(seen.later, /^CommitError: /);
  assert.match(seen.refusal, /^CommitError: /);
  assert.equal(seen.errors, 1);
  assert.equal(seen.healthy, false);
});

Deno.test("Okta's retry under a new eventId gets the identical answer and reserves nothing new, committed first or in the same group", async () => {
  // Taken, so the answer is a changed login: the strongest case for an identical reply.
  const retry = (n: number, eventId: string) =>
    hookEvent({
      eventId,
      owner: JSON.stringify(["0oaApp", "externalId", `E${n}`]),
      externalId: `E${n}`,
      oktaReportsConflict: true,
    });
  await withStore({}, async ({ store, other }) => {
    const count = () => rows(other, "SELECT login FROM logins").length;
    // After the first attempt was committed.
    const first = await store.decide(retry(1, "evt-a"), TIMING);
    const before = count();
    const again = await store.decide(retry(1, "evt-b"), TIMING);
    assert.equal(again.reply.body, first.reply.body);
    assert.equal(again.reply.status, first.reply.status);
    assert.equal(count(), before);
  });
  // While the first attempt is still in the same group (a window makes both wait for company).
  await withStore({ groupCommitWindowMs: 50 }, async ({ store, groups, other }) => {
    const [x, y] = await Promise.all([
      store.decide(retry(2, "evt-c"), TIMING),
      store.decide(retry(2, "evt-d"), TIMING),
    ]);
    assert.deepEqual(groups, ["2 committed"]);
    assert.equal(y.reply.body, x.reply.body);
    assert.equal(y.reply.status, x.reply.status);
    const logins = rows(other, "SELECT login FROM logins WHERE owner IS NOT NULL");
    assert.equal(logins.length, 1, JSON.stringify(logins));
  });
});
