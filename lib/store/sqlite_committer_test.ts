import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openCommitter } from "./sqlite_committer.ts";
import type { StoreItem, StoreSettings } from "./worker_protocol.ts";
import { hookEvent, withTempDir } from "../../tests/_test_utils.ts";

const item = (n: number): StoreItem => ({
  kind: "decide",
  event: hookEvent({
    eventId: `evt-${n}`,
    login: "ann.lee@example.com",
    owner: JSON.stringify(["0oaApp", "externalId", `E${n}`]),
    externalId: `E${n}`,
  }),
  receivedAt: "2026-03-02T08:00:00.000Z",
  elapsedMs: 0.5,
});

function settings(dbPath: string): StoreSettings {
  return {
    dbPath,
    busyTimeoutMs: 0,
    strategies: ["middle_name", "numeric_suffix"],
    groupCommitMax: 16,
    groupCommitWindowMs: 0,
    answerDeadlineMs: 1000,
  };
}

Deno.test("a committer replies after its COMMIT and the sync that followed: another connection sees the decision", async () => {
  await withTempDir("committer-", (dir) => {
    const committer = openCommitter(settings(`${dir}/hook.db`));
    const other = new DatabaseSync(`${dir}/hook.db`, { readOnly: true });
    try {
      const reply = committer.commit([item(1), item(2)]);
      if (reply.kind !== "committed") throw new Error(`not committed: ${JSON.stringify(reply)}`);
      assert.deepEqual(
        reply.results.map((r) => r.ok && r.value?.outcome),
        ["unchanged", "resolved"],
      );
      assert.ok(reply.durable.syncedMs >= reply.durable.committedMs);
      const count = "SELECT count(*) AS n FROM decisions WHERE event_id IN ('evt-1', 'evt-2')";
      assert.equal(other.prepare(count).get()?.n, 2);
    } finally {
      other.close();
      committer.close();
    }
  });
});

Deno.test("a database file deleted under a committer: no group is answered as committed from then on", async () => {
  await withTempDir("committer-", async (dir) => {
    const committer = openCommitter(settings(`${dir}/hook.db`));
    try {
      assert.equal(committer.commit([item(1)]).kind, "committed");
      await Deno.remove(`${dir}/hook.db`);
      for (const n of [2, 3]) {
        const reply = committer.commit([item(n)]);
        assert.equal(reply.kind, "not-committed");
        assert.match((reply as { message: string }).message, /DB_PATH\) was deleted/);
      }
      const health = committer.health();
      assert.ok(!health.ok && /was deleted/.test(health.reason), JSON.stringify(health));
    } finally {
      committer.close();
    }
  });
});

Deno.test("a failed commit shows in health until a commit succeeds here or elsewhere", async () => {
  await withTempDir("committer-", (dir) => {
    const committer = openCommitter(settings(`${dir}/hook.db`));
    const other = new DatabaseSync(`${dir}/hook.db`);
    try {
      other.exec("BEGIN IMMEDIATE");
      const refused = committer.commit([item(1)]);
      assert.equal(refused.kind, "not-committed");
      other.exec("ROLLBACK");
      const health = committer.health();
      assert.ok(!health.ok && /The last commit failed/.test(health.reason), JSON.stringify(health));
      // The serving thread's own connection committed since: the failure is no longer news.
      committer.committedElsewhere();
      assert.deepEqual(committer.health(), { ok: true });
    } finally {
      other.close();
      committer.close();
    }
  });
});
