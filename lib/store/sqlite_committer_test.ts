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

Deno.test("a committer commits, then syncs: its reply says when each returned, in that order", async () => {
  await withTempDir("committer-", (dir) => {
    const committer = openCommitter(settings(`${dir}/hook.db`));
    try {
      const reply = committer.commit([item(1)]);
      assert.equal(reply.kind, "committed");
      if (reply.kind !== "committed") throw new Error("not committed");
      assert.equal(reply.results.length, 1);
      assert.ok(reply.durable.syncedMs >= reply.durable.committedMs);
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
