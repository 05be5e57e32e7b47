import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { countRejections, listDecisions, pruneAudit, summarizeJobs } from "./audit_queries.ts";
import { openDatabase } from "../store/database.ts";
import { addAuditRows } from "../../tests/_audit_rows.ts";
import { makeTempDir } from "../../tests/_test_utils.ts";

async function withAudit(test: (db: DatabaseSync) => void | Promise<void>): Promise<void> {
  const dir = await makeTempDir("audit-");
  const db = openDatabase(`${dir}/hook.db`);
  try {
    addAuditRows(db);
    await test(db);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
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
  await withAudit((db) => {
    assert.deepEqual(plain(summarizeJobs(db, { limit: 10 })), [NIGHT, OLD]);
    assert.deepEqual(plain(summarizeJobs(db, { limit: 1 })), [NIGHT]);
    assert.deepEqual(plain(summarizeJobs(db, { jobId: "ijOld", limit: 10 })), [OLD]);
    assert.deepEqual(summarizeJobs(db, { jobId: "nope", limit: 10 }), []);
  });
});

Deno.test("the job_summary view gives sqlite3 users the same rows as summarizeJobs()", async () => {
  await withAudit((db) => {
    const view = db.prepare("SELECT * FROM job_summary ORDER BY last_at DESC").all();
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
  await withAudit((db) => {
    const changes = db.prepare(
      "SELECT event_id, original_login, final_login, outcome, strategy FROM login_changes ORDER BY received_at",
    ).all();
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
    assert.deepEqual(plain(db.prepare("SELECT * FROM rejections_by_day").all()), [{
      day: "2025-11-01",
      status: 401,
      rejections: 1,
      first_at: "2025-11-01T00:59:00.000Z",
      last_at: "2025-11-01T00:59:00.000Z",
      example_reason: "Missing Authorization header",
    }]);
    assert.deepEqual(plain(countRejections(db)), [
      { status: 401, rejections: 1, last_at: "2025-11-01T00:59:00.000Z" },
    ]);
  });
});

Deno.test("listDecisions() filters by job, login text, outcome and time, newest first", async () => {
  await withAudit((db) => {
    const ids = (filter: Parameters<typeof listDecisions>[1]) => {
      const { rows, total } = listDecisions(db, filter);
      return { ids: rows.map((row) => row.event_id), total };
    };
    assert.deepEqual(ids({}), { ids: ["evt-3", "evt-2", "evt-1", "evt-old"], total: 4 });
    assert.deepEqual(ids({ limit: 2 }), { ids: ["evt-3", "evt-2"], total: 4 });
    assert.deepEqual(ids({ jobId: "ijOld" }), { ids: ["evt-old"], total: 1 });
    assert.deepEqual(ids({ login: "GEORGE.Alexander" }), { ids: ["evt-2"], total: 1 });
    assert.deepEqual(ids({ login: "george" }), { ids: ["evt-2", "evt-1"], total: 2 });
    // LIKE wildcards in the text are matched literally.
    assert.deepEqual(ids({ login: "george_smith" }), { ids: [], total: 0 });
    assert.deepEqual(ids({ login: "%" }), { ids: [], total: 0 });
    assert.deepEqual(ids({ outcome: "unresolved" }), { ids: ["evt-3"], total: 1 });
    assert.deepEqual(ids({ since: "2026-03-02T01:00:01.250Z" }), {
      ids: ["evt-3", "evt-2"],
      total: 2,
    });
    const [row] = listDecisions(db, { outcome: "resolved" }).rows;
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
    });
  });
});

Deno.test("pruneAudit() removes old decisions and rejections in batches and keeps every login", async () => {
  await withAudit((db) => {
    const count = (table: string) =>
      (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const before = "2026-03-02T01:00:01.000Z";
    assert.deepEqual(pruneAudit(db, before, { dryRun: true }), { decisions: 2, rejections: 1 });
    assert.deepEqual([count("decisions"), count("rejections")], [4, 1]);

    assert.deepEqual(pruneAudit(db, before, { batchRows: 1 }), { decisions: 2, rejections: 1 });
    assert.deepEqual(listDecisions(db, {}).rows.map((row) => row.event_id), ["evt-3", "evt-2"]);
    assert.deepEqual([count("rejections"), count("logins")], [0, 1]);
    assert.equal(db.isTransaction, false);
    assert.deepEqual(pruneAudit(db, before), { decisions: 0, rejections: 0 });
  });
});
