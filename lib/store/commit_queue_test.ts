import assert from "node:assert/strict";
import { CommitError } from "./commit_error.ts";
import { CommitQueue, type ItemOutcome, type QueueSettings } from "./commit_queue.ts";
import type { StoreItem } from "./worker_protocol.ts";
import type { RejectionRecord } from "../decision/records.ts";
import { Arrivals, withDeadline } from "../../tests/_test_utils.ts";

const SETTINGS: QueueSettings = {
  groupCommitMax: 3,
  groupCommitWindowMs: 0,
  answerDeadlineMs: 1000,
  sendCutoffMs: 1000,
  lateReason: "the test engine is slow",
};

/** A refusal to record: the simplest item, told apart by its reason. */
function item(reason: string, elapsedMs = 0): StoreItem {
  if (elapsedMs > 0) {
    return {
      kind: "decide",
      event: {} as never,
      receivedAt: "2026-03-02T08:00:00.000Z",
      elapsedMs,
    };
  }
  const record: RejectionRecord = {
    receivedAt: "2026-03-02T08:00:00.000Z",
    status: 401,
    reason,
    remoteAddr: null,
    method: "POST",
    path: "/hooks/import",
    eventId: null,
  };
  return { kind: "reject", record };
}

function reasonOf(i: StoreItem): string {
  return i.kind === "reject" ? i.record.reason : `decide ${Math.round(i.elapsedMs)}`;
}

/** An engine whose groups the test settles by hand, in order. */
function manualEngine() {
  const groups = new Arrivals<{
    items: readonly StoreItem[];
    done: PromiseWithResolvers<readonly ItemOutcome[]>;
  }>();
  return {
    groups: groups.items,
    /** Resolves once the engine has been sent its `n`th group (1-based). */
    sent: (n: number) => groups.reached(n, "group", 2000),
    committer: {
      commit(items: readonly StoreItem[]): Promise<readonly ItemOutcome[]> {
        const done = Promise.withResolvers<readonly ItemOutcome[]>();
        groups.push({ items, done });
        return done.promise;
      },
    },
  };
}

/** A queue with `settings` over a manual engine. */
function queueOver(settings: Partial<QueueSettings> = {}) {
  const engine = manualEngine();
  return { engine, queue: new CommitQueue(engine.committer, { ...SETTINGS, ...settings }) };
}

const ok = (items: readonly StoreItem[]): ItemOutcome[] =>
  items.map(() => ({ ok: true, value: null }));

Deno.test("CommitQueue sends a lone item at once and forms the next group from what arrives meanwhile", async () => {
  const engine = manualEngine();
  const sizes: string[] = [];
  const queue = new CommitQueue(
    engine.committer,
    SETTINGS,
    (size, committed) => sizes.push(`${size} ${committed}`),
  );
  const first = queue.submit(item("a"));
  await engine.sent(1);
  const rest = ["b", "c", "d", "e"].map((r) => queue.submit(item(r)));
  assert.equal(engine.groups.length, 1, "nothing else is sent while a group commits");
  engine.groups[0]!.done.resolve(ok(engine.groups[0]!.items));
  await first;
  await engine.sent(2);
  // At most groupCommitMax in one group; the rest wait for the next.
  assert.deepEqual(engine.groups[1]!.items.map(reasonOf), ["b", "c", "d"]);
  engine.groups[1]!.done.resolve(ok(engine.groups[1]!.items));
  await engine.sent(3);
  assert.deepEqual(engine.groups[2]!.items.map(reasonOf), ["e"]);
  engine.groups[2]!.done.resolve(ok(engine.groups[2]!.items));
  await Promise.all(rest);
  assert.deepEqual(sizes, ["1 true", "3 true", "1 true"]);
});

Deno.test("CommitQueue with a window waits that long at an idle queue, then sends the company it got", async () => {
  const { engine, queue } = queueOver({ groupCommitWindowMs: 30 });
  const started = performance.now();
  const answers = [queue.submit(item("a")), queue.submit(item("b"))];
  assert.equal(engine.groups.length, 0);
  await engine.sent(1);
  assert.ok(performance.now() - started >= 25);
  assert.deepEqual(engine.groups[0]!.items.map(reasonOf), ["a", "b"]);
  engine.groups[0]!.done.resolve(ok(engine.groups[0]!.items));
  await Promise.all(answers);
});

Deno.test("CommitQueue rejects every item of a group the engine could not commit, and goes on", async () => {
  const { engine, queue } = queueOver();
  const failed = queue.submit(item("a"));
  await engine.sent(1);
  const later = queue.submit(item("b"));
  engine.groups[0]!.done.reject(new CommitError("disk full"));
  await assert.rejects(
    failed,
    (e: unknown) => e instanceof CommitError && e.message === "disk full",
  );
  await engine.sent(2);
  engine.groups[1]!.done.resolve(ok(engine.groups[1]!.items));
  assert.equal(await later, null);
});

Deno.test("CommitQueue gives each item its own outcome: one item's error is not the group's", async () => {
  const { engine, queue } = queueOver();
  const a = queue.submit(item("a"));
  await engine.sent(1);
  engine.groups[0]!.done.resolve([{ ok: false, error: new Error("bad item") }]);
  await assert.rejects(a, /bad item/);
});

Deno.test("CommitQueue answers an item at its deadline, queued or committing, with a CommitError", async () => {
  const { engine, queue } = queueOver({ answerDeadlineMs: 40 });
  const committing = queue.submit(item("a"));
  await engine.sent(1);
  const queued = queue.submit(item("b"));
  const late = /Not decided within 40 ms: the test engine is slow/;
  // Both are watched from now on: their deadlines may come in one turn of the event loop.
  await Promise.all([
    assert.rejects(withDeadline(committing, 2000, "the committing item"), late),
    assert.rejects(withDeadline(queued, 2000, "the queued item"), late),
  ]);
  // The group that committed late settles nothing twice, and the queued item was never sent.
  engine.groups[0]!.done.resolve(ok(engine.groups[0]!.items));
  await queue.drain("closing");
  assert.equal(engine.groups.length, 1);
});

Deno.test("CommitQueue refuses, when it forms a group, an item too old to be answered in time", async () => {
  const { engine, queue } = queueOver({ sendCutoffMs: 400 });
  const fresh = queue.submit(item("fresh", 1));
  await engine.sent(1);
  const old = assert.rejects(queue.submit(item("old", 500)), /Not decided within 1000 ms/);
  engine.groups[0]!.done.resolve(ok(engine.groups[0]!.items));
  await Promise.all([fresh, old]);
  assert.equal(engine.groups.length, 1);
});

Deno.test("CommitQueue adds an item's time in the queue to its elapsedMs when it is sent", async () => {
  const { engine, queue } = queueOver({ groupCommitWindowMs: 50 });
  const answer = queue.submit(item("x", 10));
  await engine.sent(1);
  const sent = engine.groups[0]!.items[0]!;
  assert.equal(sent.kind, "decide");
  assert.ok(sent.kind === "decide" && sent.elapsedMs >= 10 + 45, String(reasonOf(sent)));
  engine.groups[0]!.done.resolve(ok(engine.groups[0]!.items));
  await answer;
});

Deno.test("CommitQueue drain() settles what is queued, then refuses new items; fail() refuses all at once", async () => {
  const { engine, queue } = queueOver();
  const a = queue.submit(item("a"));
  await engine.sent(1);
  const b = queue.submit(item("b"));
  const drained = queue.drain("The database is closing");
  await assert.rejects(queue.submit(item("c")), /The database is closing/);
  engine.groups[0]!.done.resolve(ok(engine.groups[0]!.items));
  await engine.sent(2);
  engine.groups[1]!.done.resolve(ok(engine.groups[1]!.items));
  await Promise.all([a, b, drained]);

  const other = manualEngine();
  const failing = new CommitQueue(other.committer, SETTINGS);
  const inFlight = failing.submit(item("a"));
  await other.sent(1);
  const waiting = failing.submit(item("b"));
  failing.fail("The worker died");
  await assert.rejects(inFlight, /The worker died/);
  await assert.rejects(waiting, /The worker died/);
  await assert.rejects(failing.submit(item("c")), /The worker died/);
  assert.equal(failing.ended, "The worker died");
});

Deno.test("an item alone in flight, with no group in flight, is committed at once by commitNow", async () => {
  const { groups, sent, committer } = manualEngine();
  const now: string[][] = [];
  let answer: ItemOutcome[] | null = [];
  const engine = {
    ...committer,
    commitNow(items: readonly StoreItem[]) {
      now.push(items.map(reasonOf));
      return answer === null ? null : items.map((): ItemOutcome => ({ ok: true, value: null }));
    },
  };
  const sizes: string[] = [];
  const queue = new CommitQueue(engine, SETTINGS, (size, ok) => sizes.push(`${size} ${ok}`));
  assert.equal(await queue.submit(item("alone"), true), null);
  assert.deepEqual([now, groups.length, sizes], [[["alone"]], 0, ["1 true"]]);

  // Not alone: the queue, as ever.
  const shared = queue.submit(item("shared"));
  await sent(1);
  // Alone, but a group is in flight: it waits for the next group, never beside it.
  const behind = queue.submit(item("behind"), true);
  assert.equal(now.length, 1);
  groups[0]!.done.resolve([{ ok: true, value: null }]);
  await shared;
  await sent(2);
  assert.deepEqual(groups[1]!.items.map(reasonOf), ["behind"]);
  groups[1]!.done.resolve([{ ok: true, value: null }]);
  await behind;

  // The engine could not (a lock held elsewhere): the item goes to a group, answered once.
  answer = null;
  const declined = queue.submit(item("declined"), true);
  await sent(3);
  assert.deepEqual([now.at(-1), groups[2]!.items.map(reasonOf)], [["declined"], ["declined"]]);
  groups[2]!.done.resolve([{ ok: true, value: null }]);
  assert.equal(await declined, null);
  assert.deepEqual(sizes, ["1 true", "1 true", "1 true", "1 true"]);
});

Deno.test("an item commitNow refuses is rejected with its error, and the queue goes on", async () => {
  const { committer } = manualEngine();
  const queue = new CommitQueue({
    ...committer,
    commitNow: (items) => items.map((): ItemOutcome => ({ ok: false, error: new Error("bad") })),
  }, SETTINGS);
  await assert.rejects(queue.submit(item("x"), true), /bad/);
  assert.equal(queue.ended, null);
});
