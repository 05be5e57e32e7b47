import assert from "node:assert/strict";
import { markHandled, openCounts } from "./audit_handled.ts";
import { listDecisions, personJudgements } from "./audit_queries.ts";
import { connectPostgres, migratePostgres } from "./postgres.ts";
import { openDatabase } from "./database.ts";
import { pgQueryable, type Queryable, sqliteQueryable } from "./queryable.ts";
import { withPostgresDatabase } from "../../tests/_postgres.ts";
import { makeTempDir } from "../../tests/_test_utils.ts";

const HANDLING = { at: "2026-03-03T09:00:00.000Z", by: "alice", note: "merged by hand" };

/** Three decisions: unresolved, a wrong link judged by PERSON_ATTRIBUTE, one resolved. */
async function addDecisions(q: Queryable): Promise<void> {
  const rows: [string, string, string | null][] = [
    ["evt-u", "unresolved", null],
    ["evt-j", "unchanged", "different"],
    ["evt-r", "resolved", null],
  ];
  for (const [eventId, outcome, match] of rows) {
    await q.run(
      `INSERT INTO decisions (event_id, fingerprint, received_at, owner, original_login, outcome,
         status, duration_ms, reused, person_match)
       VALUES (?, 'f', '2026-03-02T01:00:00.000Z', 'o', 'a@x.com', ?, 200, 1, 0, ?)`,
      [eventId, outcome, match],
    );
  }
}

async function checkHandling(q: Queryable): Promise<void> {
  await addDecisions(q);
  assert.deepEqual(await openCounts(q), { unresolved: 1, handled: 0 });
  assert.equal((await listDecisions(q, { open: true })).total, 2);
  assert.equal((await markHandled(q, "evt-u", HANDLING)).marked, 1);
  assert.equal((await markHandled(q, "evt-j", HANDLING)).marked, 1);
  // Nothing to mark: already handled, needing no person, unknown.
  assert.equal((await markHandled(q, "evt-u", { ...HANDLING, by: "bob" })).marked, 0);
  const fine = await markHandled(q, "evt-r", HANDLING);
  assert.equal(fine.marked, 0);
  assert.equal(fine.decisions[0]?.needs_a_person, 0);
  assert.deepEqual((await markHandled(q, "evt-none", HANDLING)).decisions, []);
  assert.deepEqual(await openCounts(q), { unresolved: 0, handled: 2 });
  assert.equal((await personJudgements(q, 10)).total, 0);
  assert.equal((await listDecisions(q, { open: true })).total, 0);
  const rows = (await listDecisions(q, {})).rows;
  const kept = rows.find((row) => row.event_id === "evt-u")!;
  assert.deepEqual([kept.outcome, kept.handled_by, kept.handled_note, kept.handled_at], [
    "unresolved",
    "alice",
    "merged by hand",
    HANDLING.at,
  ]);
  assert.equal(rows.length, 3, "handling keeps every row");
}

Deno.test("markHandled() marks what needs a person once, keeps the row, and the open counts drop (SQLite)", async () => {
  const dir = await makeTempDir("handled-");
  const db = openDatabase(`${dir}/hook.db`);
  try {
    await checkHandling(sqliteQueryable(db));
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("markHandled() does the same on PostgreSQL", async () => {
  await withPostgresDatabase(async (url) => {
    const sql = connectPostgres(url, { max: 1 });
    try {
      await migratePostgres(sql);
      await checkHandling(pgQueryable(sql));
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
