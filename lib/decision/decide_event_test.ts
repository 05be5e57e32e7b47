import assert from "node:assert/strict";
import { AuditLog } from "../store/sqlite_audit.ts";
import { decideEvent, decideSteps } from "./decide_event.ts";
import { isRead } from "./steps.ts";
import type { HookEvent } from "./hook_event.ts";
import { LoginIndex, sqlitePort } from "../store/sqlite_login_index.ts";
import { hookEvent, reservation, withDatabase } from "../../tests/_test_utils.ts";

const TIMING = { receivedAt: "2026-03-02T08:00:00.000Z", elapsedMs: 2 };
const STRATEGIES = ["middle_name", "middle_initial", "numeric_suffix"] as const;

Deno.test("decideEvent() resolves, records the decision with its whole duration, and answers", async () => {
  await withDatabase("decide-", (db) => {
    const index = new LoginIndex(db);
    const port = sqlitePort(index, new AuditLog(db));
    index.reserve(reservation("john.smith@example.com"));
    let clock = 100;
    const decided = decideEvent(hookEvent(), port, STRATEGIES, TIMING, () => (clock += 0.5));
    assert.equal(decided.outcome, "resolved");
    assert.equal(decided.replayed, false);
    assert.equal(
      JSON.parse(decided.reply.body!).commands[0].value.login,
      "john.alexander.smith@example.com",
    );
    const row = db.prepare(
      "SELECT final_login, strategy, duration_ms, status FROM decisions WHERE event_id = 'evt-1'",
    ).get();
    // 2 ms before the decision began, plus the 0.5 ms the clock moved during it.
    assert.deepEqual({ ...row }, {
      final_login: "john.alexander.smith@example.com",
      strategy: "middle_name",
      duration_ms: 2.5,
      status: 200,
    });
  });
});

Deno.test("decideEvent() answers a replayed eventId with the stored reply and reserves nothing", async () => {
  await withDatabase("decide-", (db) => {
    const index = new LoginIndex(db);
    const port = sqlitePort(index, new AuditLog(db));
    const first = decideEvent(hookEvent(), port, STRATEGIES, TIMING);
    const count = () => (db.prepare("SELECT count(*) AS n FROM logins").get() as { n: number }).n;
    const before = count();
    // Okta's retry is the same call: the same inputs get the first answer, byte for byte.
    const again = decideEvent(hookEvent(), port, STRATEGIES, TIMING);
    assert.deepEqual(again, { ...first, replayed: true });
    assert.equal(count(), before);
  });
});

Deno.test("decideEvent() decides another person under a decided eventId on their own, never with the stored answer", async () => {
  await withDatabase("decide-", (db) => {
    const index = new LoginIndex(db);
    const port = sqlitePort(index, new AuditLog(db));
    index.reserve(reservation("john.smith@example.com"));
    const first = decideEvent(hookEvent(), port, STRATEGIES, TIMING);
    assert.equal(
      JSON.parse(first.reply.body!).commands[0].value.login,
      "john.alexander.smith@example.com",
    );
    // One eventId, another person: Okta's own samples reuse eventIds across bodies.
    const other = hookEvent({
      login: "mary.jones@example.com",
      owner: JSON.stringify(["0oaApp", "externalId", "E2"]),
      externalId: "E2",
      middleName: null,
    });
    const second = decideEvent(other, port, STRATEGIES, TIMING);
    assert.deepEqual(
      { outcome: second.outcome, replayed: second.replayed, reused: second.eventIdReused },
      { outcome: "unchanged", replayed: false, reused: true },
    );
    assert.deepEqual(second.reply, { status: 204, body: null });
    // Each is its own decision in the audit, and each is replayed as its own.
    const rows = db.prepare("SELECT final_login FROM decisions WHERE event_id = 'evt-1' ORDER BY 1")
      .all().map((row) => row.final_login);
    assert.deepEqual(rows, ["john.alexander.smith@example.com", "mary.jones@example.com"]);
    const again = decideEvent(other, port, STRATEGIES, TIMING);
    assert.deepEqual(again, { ...second, replayed: true, eventIdReused: false });
    assert.deepEqual(decideEvent(hookEvent(), port, STRATEGIES, TIMING), {
      ...first,
      replayed: true,
    });
  });
});

Deno.test("decideEvent() records a skipped LINK_USER with its login as final", async () => {
  await withDatabase("decide-", (db) => {
    const index = new LoginIndex(db);
    const port = sqlitePort(index, new AuditLog(db));
    const decided = decideEvent(
      hookEvent({ action: "LINK_USER", oktaUserId: "00u1" }),
      port,
      STRATEGIES,
      TIMING,
    );
    assert.deepEqual(decided.reply, { status: 204, body: null });
    const row = db.prepare("SELECT outcome, final_login FROM decisions").get();
    assert.deepEqual({ ...row }, { outcome: "skipped", final_login: "john.smith@example.com" });
  });
});

Deno.test("decideSteps() prefetches exactly the reads it then asks before its first write", async () => {
  await withDatabase("decide-", (db) => {
    const index = new LoginIndex(db);
    const port = sqlitePort(index, new AuditLog(db));
    index.reserve(reservation("john.smith@example.com"));
    // With how many reads each begins: the decision, then its owner's login and the login's holder.
    const events: [HookEvent, number][] = [
      [hookEvent({ eventId: "e-attr" }), 3],
      [hookEvent({ eventId: "e-event", ownerSource: "event" }), 2],
      [hookEvent({ eventId: "e-free", login: "free@example.com" }), 3],
      [hookEvent({ eventId: "e-link", action: "LINK_USER" }), 1],
      [hookEvent({ eventId: "e-none", login: null }), 1],
    ];
    for (const [event, reads] of events) {
      const steps = decideSteps(event, STRATEGIES, TIMING, () => 0);
      const first = steps.next();
      assert.ok(!first.done && "prefetch" in first.value, `${event.eventId}: no prefetch first`);
      const fetched = first.value.prefetch.map((a) => `${a.method} ${JSON.stringify(a.args)}`);
      const asked: string[] = [];
      let next = steps.next();
      while (!next.done && !("prefetch" in next.value)) {
        const { method, args } = next.value;
        if (!isRead(method)) break;
        asked.push(`${method} ${JSON.stringify(args)}`);
        next = steps.next((port[method] as (...a: readonly unknown[]) => unknown)(...args));
      }
      assert.equal(fetched.length, reads, event.eventId);
      assert.deepEqual(asked.slice(0, fetched.length), fetched, event.eventId);
    }
  });
});
