import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DECISION_WORKER_URL } from "./sqlite_store.ts";
import type { FromWorker, StoreSettings, ToWorker } from "./worker_protocol.ts";
import { hookEvent, withDeadline, withTempDir } from "../../tests/_test_utils.ts";

/** The worker on its own, spoken to in its protocol: one answer per message, in order. */
async function withWorker(
  test: (ask: (m: ToWorker) => Promise<FromWorker>, dir: string) => Promise<void>,
) {
  await withTempDir("worker-", async (dir) => {
    const worker = new Worker(DECISION_WORKER_URL.href, { type: "module" });
    const answers: PromiseWithResolvers<FromWorker>[] = [];
    worker.onmessage = (event: MessageEvent<FromWorker>) => answers.shift()?.resolve(event.data);
    const ask = (message: ToWorker) => {
      const answer = Promise.withResolvers<FromWorker>();
      answers.push(answer);
      worker.postMessage(message);
      return withDeadline(answer.promise, 10_000, `the worker's answer to "${message.kind}"`);
    };
    try {
      await test(ask, dir);
    } finally {
      worker.terminate();
    }
  });
}

function settings(dir: string): StoreSettings {
  return {
    dbPath: `${dir}/hook.db`,
    busyTimeoutMs: 1000,
    strategies: ["middle_name", "middle_initial", "numeric_suffix"],
    groupCommitMax: 256,
    groupCommitWindowMs: 0,
    answerDeadlineMs: 1000,
  };
}

Deno.test("the decision worker opens the database, commits a group, answers pings and closes", async () => {
  await withWorker(async (ask, dir) => {
    assert.deepEqual(await ask({ kind: "open", settings: settings(dir) }), { kind: "opened" });
    const item = { kind: "decide", receivedAt: "2026-03-02T08:00:00.000Z", elapsedMs: 1 } as const;
    const answer = await ask({
      kind: "group",
      items: [
        { ...item, event: hookEvent({ eventId: "e1" }) },
        { ...item, event: hookEvent({ eventId: "e2", owner: '["0oaApp","externalId","E2"]' }) },
      ],
    });
    assert.equal(answer.kind, "committed");
    const results = (answer as Extract<FromWorker, { kind: "committed" }>).results;
    assert.deepEqual(results.map((r) => r.ok && r.value?.outcome), ["unchanged", "resolved"]);
    assert.deepEqual(await ask({ kind: "ping" }), { kind: "pong", health: { ok: true } });
    assert.deepEqual(await ask({ kind: "close" }), { kind: "closed" });
  });
});

Deno.test("the decision worker says why it cannot open the database, and commits nothing unopened", async () => {
  await withWorker(async (ask, dir) => {
    const failed = await ask({
      kind: "open",
      settings: { ...settings(dir), dbPath: `${dir}/no/such/dir/hook.db` },
    });
    assert.equal(failed.kind, "failed");
    assert.match((failed as { message: string }).message, /No such file/);
    assert.deepEqual(await ask({ kind: "group", items: [] }), {
      kind: "not-committed",
      message: "The database is not open",
      cause: "",
    });
    assert.deepEqual(await ask({ kind: "ping" }), {
      kind: "pong",
      health: { ok: false, reason: "The database is not open" },
    });
  });
});

Deno.test("the decision worker answers a group only after an fdatasync of the WAL that began after its COMMIT", async () => {
  await withWorker(async (ask, dir) => {
    await ask({ kind: "open", settings: settings(dir) });
    const item = { kind: "decide", receivedAt: "2026-03-02T08:00:00.000Z", elapsedMs: 1 } as const;
    for (let group = 0; group < 5; group++) {
      const answer = await ask({
        kind: "group",
        items: [{ ...item, event: hookEvent({ eventId: `e${group}`, owner: `["o","${group}"]` }) }],
      });
      const received = performance.timeOrigin + performance.now();
      assert.equal(answer.kind, "committed");
      const { durable } = answer as Extract<FromWorker, { kind: "committed" }>;
      // The sync started once COMMIT had returned, and ended before the answer was sent.
      assert.ok(durable.committedMs <= durable.syncedMs);
      assert.ok(durable.origin + durable.syncedMs <= received);
    }
    // What the answers promised is in the file, read by another connection.
    const db = new DatabaseSync(`${dir}/hook.db`, { readOnly: true });
    try {
      assert.equal(db.prepare("SELECT count(*) AS n FROM decisions").get()?.n, 5);
    } finally {
      db.close();
    }
    await ask({ kind: "close" });
  });
});
