import assert from "node:assert/strict";
import { fingerprintOf } from "../store/fingerprint.ts";
import { runAudit } from "./audit_command.ts";
import { parseSince } from "./audit_shared.ts";
import { openDatabase } from "../store/database.ts";
import { addAuditRows, AUDIT_ROWS } from "../../tests/_audit_rows.ts";
import { runTask } from "../../tests/_run_task.ts";
import { makeHookRequest, makeTempDir, startTestServer } from "../../tests/_test_utils.ts";
import { withPostgresDatabase } from "../../tests/_postgres.ts";

/** A temp dir holding a database with the fixed audit rows. */
async function withAuditDatabase(
  test: (dbPath: string, env: Record<string, string>) => Promise<void>,
): Promise<void> {
  const dir = await makeTempDir("audit-cli-");
  const dbPath = `${dir}/hook.db`;
  try {
    const db = openDatabase(dbPath);
    addAuditRows(db);
    db.close();
    await test(dbPath, { DB_PATH: dbPath });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("deno task audit summary tells what each import job did, and never writes", async () => {
  await withAuditDatabase(async (dbPath, env) => {
    const before = await Deno.readFile(dbPath);
    const result = await runTask("audit", ["summary"], env);
    assert.deepEqual([result.code, result.stderr], [0, ""]);
    assert.equal(
      result.stdout,
      `Refused requests: 1 (1 with 401), last 2025-11-01T00:59:00.000Z
  Refused for their credentials: if these came from Okta, its hook secret or header does not match HOOK_AUTH_SECRET / HOOK_AUTH_HEADER, and Okta imported those users without de-duplication
Unresolved: 1 decision needs a person (deno task audit list --open; then audit resolve EVENT_ID --note TEXT)

Job ijNight (app 0oaCsvApp)
  first 2026-03-02T01:00:00.000Z, last 2026-03-02T01:00:02.000Z
  3 decisions: 1 unchanged, 1 resolved, 1 unresolved, 0 skipped
  resolved by middle_name 1, middle_initial 0, numeric_suffix 0

Job ijOld (app 0oaCsvApp)
  first 2025-11-01T01:00:00.000Z, last 2025-11-01T01:00:00.000Z
  1 decision: 1 unchanged, 0 resolved, 0 unresolved, 0 skipped
`,
    );
    const csv = await runTask("audit", ["summary", "--job", "ijOld", "--format", "csv"], env);
    assert.equal(
      csv.stdout,
      "job_id,app_ids,first_at,last_at,decisions,unchanged,resolved,unresolved,skipped," +
        "middle_name,middle_initial,numeric_suffix,reused\n" +
        "ijOld,0oaCsvApp,2025-11-01T01:00:00.000Z,2025-11-01T01:00:00.000Z,1,1,0,0,0,0,0,0,0\n",
    );
    assert.deepEqual(await Deno.readFile(dbPath), before);
  });
});

Deno.test("deno task audit resolve marks an unresolved decision handled, keeping the row; summary stops counting it", async () => {
  await withAuditDatabase(async (_dbPath, env) => {
    const before = JSON.parse(
      (await runTask("audit", ["summary", "--format", "json"], env)).stdout,
    );
    assert.equal(before.unresolved, 1);
    assert.equal(before.handled, 0);
    // The refusals are in the JSON too, as in the table.
    assert.deepEqual(before.refusals, [
      { status: 401, rejections: 1, last_at: "2025-11-01T00:59:00.000Z" },
    ]);
    assert.deepEqual(before.jobs.map((job: { job_id: string }) => job.job_id), [
      "ijNight",
      "ijOld",
    ]);
    const open = await runTask("audit", ["list", "--open"], env);
    assert.match(
      open.stdout,
      /^RECEIVED.*\n2026-03-02T01:00:02Z {2}evt-3 .*unresolved.*\n1 decision\n$/,
    );

    const who = { ...env, USER: "alice" };
    const marked = await runTask("audit", ["resolve", "evt-3", "--note", "created by hand"], who);
    assert.equal(marked.code, 0, marked.stderr);
    assert.match(
      marked.stdout,
      /^Marked 1 decision of event evt-3 handled by alice at \d{4}-\d\d-\d\dT[\d:.]+Z\n$/,
    );

    const summary = await runTask("audit", ["summary"], env);
    assert.doesNotMatch(summary.stdout, /Unresolved:/);
    assert.match(summary.stdout, /^Handled: 1 decision marked handled by a person /m);
    // The job's own counts are what happened, and stay.
    assert.match(summary.stdout, /3 decisions: 1 unchanged, 1 resolved, 1 unresolved, 0 skipped/);
    const after = JSON.parse((await runTask("audit", ["summary", "--format", "json"], env)).stdout);
    assert.deepEqual([after.unresolved, after.handled], [0, 1]);
    assert.equal((await runTask("audit", ["list", "--open"], env)).stdout, "No decisions match\n");
    const row = JSON.parse(
      (await runTask("audit", ["list", "--outcome", "unresolved", "--format", "json"], env)).stdout,
    )[0];
    assert.deepEqual([row.event_id, row.handled_by, row.handled_note], [
      "evt-3",
      "alice",
      "created by hand",
    ]);
    const table = await runTask("audit", ["list", "--outcome", "unresolved"], env);
    assert.match(table.stdout, /evt-3 .* unresolved \(handled\) /);

    const again = await runTask("audit", ["resolve", "evt-3", "--note", "x", "--by", "bob"], env);
    assert.deepEqual([again.code, again.stdout], [1, ""]);
    assert.match(again.stderr, /^The decision of event evt-3 was already handled by alice at /);
    const fine = await runTask("audit", ["resolve", "evt-2", "--note", "x"], env);
    assert.equal(fine.code, 1);
    assert.match(fine.stderr, /^The decision of event evt-2 \(resolved\) needs no person/);
    const unknown = await runTask("audit", ["resolve", "evt-nope", "--note", "x"], env);
    assert.deepEqual(
      [unknown.code, unknown.stderr],
      [1, "No decision has event id evt-nope (see audit list)\n"],
    );
  });
});

Deno.test("deno task audit list prints an aligned table, filtered and limited", async () => {
  await withAuditDatabase(async (_dbPath, env) => {
    const all = await runTask("audit", ["list", "--limit", "3"], env);
    assert.deepEqual([all.code, all.stderr], [0, ""]);
    assert.equal(
      all.stdout,
      `RECEIVED (UTC)        EVENT ID  JOB      EXTERNAL ID  OUTCOME     STRATEGY     LOGIN                           FINAL LOGIN                               REASON
2026-03-02T01:00:02Z  evt-3     ijNight  RL-3         unresolved  -            kim.ro@ridgeline.example        -                                         -
2026-03-02T01:00:01Z  evt-2     ijNight  RL-2         resolved    middle_name  george.smith@ridgeline.example  george.alexander.smith@ridgeline.example  Okta reported the login taken
2026-03-02T01:00:00Z  evt-1     ijNight  RL-1         unchanged   -            george.smith@ridgeline.example  george.smith@ridgeline.example            -
Newest 3 of 4 decisions (see --limit)
`,
    );
    const filtered = await runTask(
      "audit",
      ["list", "--login", "George", "--outcome", "resolved", "--since", "2026-03-02"],
      env,
    );
    assert.equal(
      filtered.stdout,
      `RECEIVED (UTC)        EVENT ID  JOB      EXTERNAL ID  OUTCOME   STRATEGY     LOGIN                           FINAL LOGIN                               REASON
2026-03-02T01:00:01Z  evt-2     ijNight  RL-2         resolved  middle_name  george.smith@ridgeline.example  george.alexander.smith@ridgeline.example  Okta reported the login taken
1 decision
`,
    );
    const none = await runTask("audit", ["list", "--job", "nope"], env);
    assert.deepEqual([none.code, none.stdout], [0, "No decisions match\n"]);
  });
});

Deno.test("deno task audit list --format csv and json export every matching row, with every column", async () => {
  await withAuditDatabase(async (dbPath, env) => {
    const csv = await runTask("audit", ["list", "--job", "ijOld", "--format", "csv"], env);
    assert.equal(
      csv.stdout,
      "received_at,event_id,job_id,app_id,external_id,action,original_login,final_login," +
        "outcome,strategy,reused,reason,status,duration_ms,holder_status,owner,owner_source," +
        "owner_attribute,response,holder_okta_user_id,fingerprint,person,holder_person," +
        "person_match,person_action,handled_at,handled_by,handled_note\n" +
        "2025-11-01T01:00:00.000Z,evt-old,ijOld,0oaCsvApp,RL-0,CREATE_USER," +
        "ann.lee@ridgeline.example,ann.lee@ridgeline.example,unchanged,,0,,204,1.5,," +
        `"[""0oaCsvApp"",""externalId"",""RL-0""]",attribute,,,,${
          fingerprintOf('["evt-old"]')
        },,,,,,,\n`,
    );
    // Every column of the table, in its order: an added column cannot be left out of exports.
    const db = openDatabase(dbPath);
    const columns = db.prepare("SELECT name FROM pragma_table_info('decisions') ORDER BY cid")
      .all().map((row) => row.name);
    db.close();
    assert.deepEqual(
      [...csv.stdout.split("\n")[0]!.split(",")].sort(),
      [...columns].sort() as string[],
    );
    const json = await runTask(
      "audit",
      ["list", "--outcome", "unresolved", "--format", "json"],
      env,
    );
    assert.deepEqual(JSON.parse(json.stdout), [{
      received_at: "2026-03-02T01:00:02.000Z",
      event_id: "evt-3",
      job_id: "ijNight",
      app_id: "0oaCsvApp",
      external_id: "RL-3",
      action: "CREATE_USER",
      original_login: "kim.ro@ridgeline.example",
      final_login: null,
      outcome: "unresolved",
      strategy: null,
      reused: 0,
      reason: null,
      status: 204,
      duration_ms: 1.5,
      holder_status: null,
      owner: '["0oaCsvApp","externalId","RL-3"]',
      owner_source: "attribute",
      owner_attribute: null,
      response: null,
      holder_okta_user_id: null,
      fingerprint: fingerprintOf('["evt-3"]'),
      person: null,
      holder_person: null,
      person_match: null,
      person_action: null,
      handled_at: null,
      handled_by: null,
      handled_note: null,
    }]);
  });
});

Deno.test("deno task audit prune removes old audit rows, prints the counts and keeps logins", async () => {
  await withAuditDatabase(async (dbPath, env) => {
    const dry = await runTask("audit", ["prune", "--older-than", "90d", "--dry-run"], env);
    const cutoff = /received before (\S+) /.exec(dry.stdout)?.[1] ?? "";
    const expectedCutoff = Date.now() - 90 * 86_400_000;
    assert.ok(Math.abs(Date.parse(cutoff) - expectedCutoff) < 60_000, cutoff);
    // Which fixed rows are older than 90 days depends on today's date.
    const decisions = AUDIT_ROWS.filter((row) => row.receivedAt < cutoff).length;
    const rejections = "2025-11-01T00:59:00.000Z" < cutoff ? 1 : 0;
    const counts = `${decisions} decision${decisions === 1 ? "" : "s"} and ` +
      `${rejections} rejection${rejections === 1 ? "" : "s"} received before ${cutoff} ` +
      "(older than 90d); logins stay reserved\n";
    assert.deepEqual([dry.code, dry.stderr, dry.stdout], [0, "", `Would remove ${counts}`]);

    const pruned = await runTask("audit", ["prune", "--older-than", "90d"], env);
    assert.equal(pruned.code, 0);
    assert.match(pruned.stdout, /^Removed \d+ decisions? and \d+ rejections? received before /);
    const db = openDatabase(dbPath);
    try {
      const left = db.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number };
      assert.equal(left.n, 4 - Number(/^Removed (\d+)/.exec(pruned.stdout)?.[1]));
      const logins = db.prepare("SELECT login FROM logins").all().map((row) => row.login);
      assert.deepEqual(logins, ["ann.lee@ridgeline.example"]);
    } finally {
      db.close();
    }
  });
});

Deno.test("runAudit() prune counts back from the clock and removes rows before the cutoff", async () => {
  await withAuditDatabase(async (_dbPath, env) => {
    const lines: string[] = [];
    const code = await runAudit(["prune", "--older-than", "36h"], env, {
      out: (text) => lines.push(text),
      err: (text) => lines.push(`err: ${text}`),
      now: () => new Date("2026-03-03T13:00:01.000Z"),
    });
    assert.equal(code, 0);
    assert.deepEqual(lines, [
      "Removed 2 decisions and 1 rejection received before 2026-03-02T01:00:01.000Z " +
      "(older than 36h); logins stay reserved",
    ]);
  });
});

/** A real import of two George Smiths through the real service: one unchanged, one resolved. */
async function importTwoGeorges(
  options: Parameters<typeof startTestServer>[0],
  jobId: string,
  appId: string,
): Promise<void> {
  const server = await startTestServer(options);
  try {
    for (const externalId of ["E1", "E2"]) {
      const body = makeHookRequest({
        login: "george.smith@ridgeline.example",
        externalId,
        middleName: "Alexander",
        jobId,
        appId,
      });
      await (await server.post(body)).body?.cancel();
    }
  } finally {
    await server.close();
  }
}

Deno.test("deno task audit summary reports the decisions a real import made", async () => {
  const dir = await makeTempDir("audit-e2e-");
  try {
    await importTwoGeorges({ dir }, "ijRealRun", "0oaRealApp");
    const result = await runTask("audit", ["summary", "--job", "ijRealRun"], {
      DB_PATH: `${dir}/hook.db`,
    });
    assert.equal(result.code, 0);
    assert.equal(
      result.stdout.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<time>"),
      `Job ijRealRun (app 0oaRealApp)
  first <time>, last <time>
  2 decisions: 1 unchanged, 1 resolved, 0 unresolved, 0 skipped
  resolved by middle_name 1, middle_initial 0, numeric_suffix 0
`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task audit --help and each command's --help print the usage", async () => {
  for (const args of [["--help"], ["summary", "--help"], ["list", "-h"], ["prune", "--help"]]) {
    const result = await runTask("audit", args, {});
    assert.deepEqual([result.code, result.stderr], [0, ""], args.join(" "));
    assert.match(result.stdout, /^Usage: deno task audit <command> \[options\]\n/);
    assert.match(result.stdout, /prune --older-than AGE \[--dry-run\]/);
  }
});

Deno.test("deno task audit answers bad arguments with one line and exit code 2", async () => {
  const cases: [string[], string][] = [
    [[], "Expected a command: summary, list, resolve, prune (see --help)"],
    [["report"], 'Unknown audit command "report": use summary, list, resolve, prune (see --help)'],
    [["list", "--bogus"], "Unknown option '--bogus' (see --help)"],
    [
      ["list", "--outcome", "lost"],
      'Option --outcome must be one of unchanged, resolved, unresolved, skipped, linked, got "lost" (see --help)',
    ],
    [
      ["list", "--limit", "0"],
      'Option --limit must be a whole number above 0, got "0" (see --help)',
    ],
    [
      ["list", "--limit", "-1"],
      'Option --limit needs a value; one that starts with "-" goes as --limit=VALUE (see --help)',
    ],
    [
      ["list", "--limit=-1"],
      'Option --limit must be a whole number above 0, got "-1" (see --help)',
    ],
    [
      ["list", "--since", "2026-02-30"],
      'Option --since must be a date, a date-time or an age (2026-03-01, 2026-03-01T22:00:00Z, 24h), got "2026-02-30" (see --help)',
    ],
    [
      ["summary", "--format", "xml"],
      'Option --format must be table, csv or json, got "xml" (see --help)',
    ],
    [
      ["summary", "extra"],
      "Unexpected argument 'extra'. This command does not take positional arguments (see --help)",
    ],
    [["prune"], "Option --older-than is required, for example --older-than 90d (see --help)"],
    [
      ["resolve"],
      "Expected the decision's event id: audit resolve EVENT_ID --note TEXT (see --help)",
    ],
    [
      ["resolve", "evt-3"],
      "Option --note is required: say what was done, for the audit (see --help)",
    ],
    [["resolve", "evt-3", "--note", " "], "Option --note must not be empty (see --help)"],
    [
      ["prune", "--older-than", "3m"],
      'Option --older-than must be a number of days or hours such as 90d or 36h, got "3m" (see --help)',
    ],
  ];
  for (const [args, message] of cases) {
    const result = await runTask("audit", args, {});
    assert.deepEqual(
      [result.code, result.stderr, result.stdout],
      [2, `${message}\n`, ""],
      args.join(" "),
    );
  }
});

Deno.test("deno task audit fails with exit code 1 when the database is missing", async () => {
  const dir = await makeTempDir("audit-cli-");
  try {
    for (const args of [["summary"], ["prune", "--older-than", "90d"]]) {
      const result = await runTask("audit", args, { DB_PATH: `${dir}/none.db` });
      assert.deepEqual(
        [result.code, result.stderr, result.stdout],
        [1, `Cannot open "${dir}/none.db": no such file\n`, ""],
      );
    }
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseSince() reads dates as UTC midnight, date-times in UTC unless offset, and ages", () => {
  const now = new Date("2026-03-03T12:00:00.000Z");
  assert.equal(parseSince("2026-03-01", now), "2026-03-01T00:00:00.000Z");
  assert.equal(parseSince("2026-03-01T22:30", now), "2026-03-01T22:30:00.000Z");
  assert.equal(parseSince("2026-03-01 22:30:15Z", now), "2026-03-01T22:30:15.000Z");
  assert.equal(parseSince("2026-03-01T22:30:00+01:00", now), "2026-03-01T21:30:00.000Z");
  assert.equal(parseSince("24h", now), "2026-03-02T12:00:00.000Z");
  assert.equal(parseSince("7d", now), "2026-02-24T12:00:00.000Z");
  assert.throws(() => parseSince("yesterday", now), TypeError);
  assert.throws(() => parseSince("2026-13-01", now), TypeError);
});

Deno.test("deno task audit summary, list and prune read and prune the audit on PostgreSQL too", async () => {
  await withPostgresDatabase(async (url) => {
    await importTwoGeorges({ env: { DATABASE_URL: url } }, "ijPgRun", "0oaPgApp");
    const env = { DATABASE_URL: url };
    const summary = await runTask("audit", ["summary", "--job", "ijPgRun"], env);
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(summary.stdout, /^Job ijPgRun \(app 0oaPgApp\)\n/);
    assert.match(summary.stdout, /2 decisions: 1 unchanged, 1 resolved, 0 unresolved, 0 skipped/);
    const list = await runTask("audit", ["list", "--login", "ALEXANDER", "--format", "json"], env);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout).map((r: { final_login: string }) => r.final_login), [
      "george.alexander.smith@ridgeline.example",
    ]);
    const prune = await runTask("audit", ["prune", "--older-than", "1h", "--dry-run"], env);
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /^Would remove 0 decisions and 0 rejections received before /);
  });
});
