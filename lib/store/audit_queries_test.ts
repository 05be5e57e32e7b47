import assert from "node:assert/strict";
import { fingerprintOf } from "./fingerprint.ts";
import { countRejections, listDecisions, pruneAudit, summarizeJobs } from "./audit_queries.ts";
import { openDatabase } from "./database.ts";
import { insertRejection, pgPort } from "./postgres.ts";
import { openPgQueryable, type Queryable, sqliteQueryable } from "./queryable.ts";
import { addAuditRows, auditRecords } from "../../tests/_audit_rows.ts";
import { makeTempDir } from "../../tests/_test_utils.ts";
import { withPostgresDatabase } from "../../tests/_postgres.ts";
import postgres from "postgres";

/** Runs `test` on the audit rows in SQLite, then in PostgreSQL: one behaviour, both engines. */
async function withAudit(test: (db: Queryable) => Promise<void>): Promise<void> {
  const dir = await makeTempDir("audit-");
  const db = openDatabase(`${dir}/hook.db`);
  try {
    addAuditRows(db);
    await test(sqliteQueryable(db));
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
  await withPostgresDatabase(async (url) => {
    const { q, close } = await openPgQueryable(url);
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const records = auditRecords();
      const port = pgPort(sql);
      for (const d of records.decisions) await port.recordDecision(d);
      await insertRejection(sql, records.rejection);
      await port.reserveIfFree(records.reservation);
      await test(q);
    } finally {
      await sql.end();
      await close();
    }
  });
}

function plain(rows: unknown[]): Record<string, unknown>[] {
  return rows.map((row) => ({ ...row as Record<string, unknown> }));
}

const NIGHT = {
  job_id: "ijNight",
  app_ids: "0oaCsvApp",
  first_at: "2026-03-02T01:00:00.000Z",
  last_at: "2026-03-02T01:00:02.000Z",
  decisions: 3,
  unchanged: 1,
  resolved: 1,
  unresolved: 1,
  skipped: 0,
  middle_name: 1,
  middle_initial: 0,
  numeric_suffix: 0,
  reused: 0,
};
const OLD = {
  job_id: "ijOld",
  app_ids: "0oaCsvApp",
  first_at: "2025-11-01T01:00:00.000Z",
  last_at: "2025-11-01T01:00:00.000Z",
  decisions: 1,
  unchanged: 1,
  resolved: 0,
  unresolved: 0,
  skipped: 0,
  middle_name: 0,
  middle_initial: 0,
  numeric_suffix: 0,
  reused: 0,
};

Deno.test("summarizeJobs() counts outcomes and strategies per job, newest job first", async () => {
  await withAudit(async (db) => {
    assert.deepEqual(plain(await summarizeJobs(db, { limit: 10 })), [NIGHT, OLD]);
    assert.deepEqual(plain(await summarizeJobs(db, { limit: 1 })), [NIGHT]);
    assert.deepEqual(plain(await summarizeJobs(db, { jobId: "ijOld", limit: 10 })), [OLD]);
    assert.deepEqual(await summarizeJobs(db, { jobId: "nope", limit: 10 }), []);
  });
});

Deno.test("the job_summary view gives sqlite3 users the same rows as summarizeJobs()", async () => {
  await withAudit(async (db) => {
    const view = await db.all("SELECT * FROM job_summary ORDER BY last_at DESC");
    assert.deepEqual(
      plain(view).map(({ avg_ms, max_ms, ...rest }) => {
        assert.deepEqual([avg_ms, max_ms], [1.5, 1.5]);
        return rest;
      }),
      [NIGHT, OLD],
    );
  });
});

Deno.test("the login_changes and rejections_by_day views list what needs a look", async () => {
  await withAudit(async (db) => {
    const changes = await db.all(
      "SELECT event_id, original_login, final_login, outcome, strategy FROM login_changes ORDER BY received_at",
    );
    assert.deepEqual(plain(changes), [
      {
        event_id: "evt-2",
        original_login: "george.smith@ridgeline.example",
        final_login: "george.alexander.smith@ridgeline.example",
        outcome: "resolved",
        strategy: "middle_name",
      },
      {
        event_id: "evt-3",
        original_login: "kim.ro@ridgeline.example",
        final_login: null,
        outcome: "unresolved",
        strategy: null,
      },
    ]);
    assert.deepEqual(plain(await db.all("SELECT * FROM rejections_by_day")), [{
      day: "2025-11-01",
      status: 401,
      rejections: 1,
      first_at: "2025-11-01T00:59:00.000Z",
      last_at: "2025-11-01T00:59:00.000Z",
      example_reason: "Missing Authorization header",
    }]);
    assert.deepEqual(plain(await countRejections(db)), [
      { status: 401, rejections: 1, last_at: "2025-11-01T00:59:00.000Z" },
    ]);
  });
});

Deno.test("listDecisions() filters by job, login text, outcome and time, newest first", async () => {
  await withAudit(async (db) => {
    const ids = async (filter: Parameters<typeof listDecisions>[1]) => {
      const { rows, total } = await listDecisions(db, filter);
      return { ids: rows.map((row) => row.event_id), total };
    };
    assert.deepEqual(await ids({}), { ids: ["evt-3", "evt-2", "evt-1", "evt-old"], total: 4 });
    assert.deepEqual(await ids({ limit: 2 }), { ids: ["evt-3", "evt-2"], total: 4 });
    assert.deepEqual(await ids({ jobId: "ijOld" }), { ids: ["evt-old"], total: 1 });
    assert.deepEqual(await ids({ login: "GEORGE.Alexander" }), { ids: ["evt-2"], total: 1 });
    assert.deepEqual(await ids({ login: "george" }), { ids: ["evt-2", "evt-1"], total: 2 });
    // LIKE wildcards in the text are matched literally.
    assert.deepEqual(await ids({ login: "george_smith" }), { ids: [], total: 0 });
    assert.deepEqual(await ids({ login: "%" }), { ids: [], total: 0 });
    assert.deepEqual(await ids({ outcome: "unresolved" }), { ids: ["evt-3"], total: 1 });
    assert.deepEqual(await ids({ since: "2026-03-02T01:00:01.250Z" }), {
      ids: ["evt-3", "evt-2"],
      total: 2,
    });
    const [row] = (await listDecisions(db, { outcome: "resolved" })).rows;
    assert.deepEqual({ ...row }, {
      received_at: "2026-03-02T01:00:01.250Z",
      event_id: "evt-2",
      job_id: "ijNight",
      app_id: "0oaCsvApp",
      external_id: "RL-2",
      action: "CREATE_USER",
      original_login: "george.smith@ridgeline.example",
      final_login: "george.alexander.smith@ridgeline.example",
      outcome: "resolved",
      strategy: "middle_name",
      reused: 0,
      reason: "Okta reported the login taken",
      status: 200,
      duration_ms: 1.5,
      holder_status: null,
      owner: '["0oaCsvApp","externalId","RL-2"]',
      owner_source: "attribute",
      owner_attribute: null,
      response: null,
      holder_okta_user_id: null,
      fingerprint: fingerprintOf('["evt-2"]'),
      person: null,
      holder_person: null,
      person_match: null,
      person_action: null,
      handled_at: null,
      handled_by: null,
      handled_note: null,
    });
  });
});

Deno.test("pruneAudit() removes old decisions and rejections in batches and keeps every login", async () => {
  await withAudit(async (db) => {
    const count = async (table: string) =>
      (await db.get(`SELECT CAST(count(*) AS INTEGER) AS n FROM ${table}`) as { n: number }).n;
    const before = "2026-03-02T01:00:01.000Z";
    assert.deepEqual(await pruneAudit(db, before, { dryRun: true }), {
      decisions: 2,
      rejections: 1,
    });
    assert.deepEqual([await count("decisions"), await count("rejections")], [4, 1]);

    assert.deepEqual(await pruneAudit(db, before, { batchRows: 1 }), {
      decisions: 2,
      rejections: 1,
    });
    assert.deepEqual((await listDecisions(db, {})).rows.map((row) => row.event_id), [
      "evt-3",
      "evt-2",
    ]);
    assert.deepEqual([await count("rejections"), await count("logins")], [0, 1]);
    assert.deepEqual(await pruneAudit(db, before), { decisions: 0, rejections: 0 });
  });
});
