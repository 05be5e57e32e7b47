import assert from "node:assert/strict";
import { AuditLog } from "../store/sqlite_audit.ts";
import { openDatabase } from "../store/database.ts";
import { LoginIndex } from "../store/sqlite_login_index.ts";
import { runTask } from "../../tests/_run_task.ts";
import { decisionRecord, makeTempDir, reservation } from "../../tests/_test_utils.ts";
import { withPostgresDatabase } from "../../tests/_postgres.ts";
import { pgPort } from "../store/postgres.ts";
import { openPgQueryable } from "../store/queryable.ts";

const USERS = "employeeId,userName,firstName,middleName,lastName,email\n" +
  "E1,george.smith@example.com,George,Alexander,Smith,g1@example.com\n" +
  "E2,ann.lee@example.com,Ann,,Lee,ann@example.com\n" +
  "E3,,Bo,,Ek,bo@example.com\n" +
  "E4,george.smith@example.com,George,,Smith,g4@example.com\n";

/** A temp dir with a live database holding one seeded login and one decision of app 0oaCsvApp. */
async function withLiveDatabase(
  test: (dir: string, env: Record<string, string>) => Promise<void>,
): Promise<void> {
  const dir = await makeTempDir("preview-cli-");
  const db = openDatabase(`${dir}/hook.db`);
  try {
    new LoginIndex(db).reserve(reservation("george.smith@example.com"));
    new AuditLog(db).recordDecision(decisionRecord("evt-1", {
      receivedAt: "2026-03-01T01:00:00.000Z",
      appId: "0oaCsvApp",
      externalId: "E0",
      owner: JSON.stringify(["0oaCsvApp", "externalId", "E0"]),
      originalLogin: "zed.a@example.com",
      finalLogin: "zed.a@example.com",
      durationMs: 1,
    }));
    db.close();
    await Deno.writeTextFile(`${dir}/users.csv`, USERS);
    await test(dir, { DB_PATH: `${dir}/hook.db` });
  } finally {
    if (db.isOpen) db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The run time is the only line that changes between runs. */
function withoutTime(text: string): string {
  return text.replace(/ in \d+\.\d s;/, " in 0.0 s;");
}

Deno.test("deno task preview prints the summary, writes the CSV plan and leaves the database untouched", async () => {
  await withLiveDatabase(async (dir, env) => {
    const before = await Deno.readFile(`${dir}/hook.db`);
    const result = await runTask("preview", [`${dir}/users.csv`, "--out", `${dir}/plan.csv`], env);
    assert.equal(result.stderr, "");
    assert.equal(result.code, 0);
    assert.equal(
      withoutTime(result.stdout),
      `Previewed ${dir}/users.csv against a copy of ${dir}/hook.db (1 logins, app "0oaCsvApp") ` +
        "in 0.0 s; the database was not written\n" +
        "  rows                     4\n" +
        "  unchanged                1\n" +
        "  resolved                 2\n" +
        "    middle_name            1\n" +
        "    middle_initial         0\n" +
        "    numeric_suffix         1\n" +
        "  unresolved               0\n" +
        "  bad rows                 1\n" +
        "line 4: Empty userName\n" +
        `Plan (csv, 4 rows) written to ${dir}/plan.csv\n`,
    );
    assert.equal(
      await Deno.readTextFile(`${dir}/plan.csv`),
      "line,id,original_login,planned_login,outcome,strategy,reason,person\n" +
        "2,E1,george.smith@example.com,george.alexander.smith@example.com,resolved,middle_name," +
        "The login index holds the login for another user,\n" +
        "3,E2,ann.lee@example.com,ann.lee@example.com,unchanged,,,\n" +
        "4,E3,,,bad,,Empty userName,\n" +
        "5,E4,george.smith@example.com,george.smith2@example.com,resolved,numeric_suffix," +
        "The login index holds the login for another user,\n",
    );
    assert.deepEqual(await Deno.readFile(`${dir}/hook.db`), before);
    const names = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
    assert.deepEqual(names.filter((name) => !name.startsWith("hook.db-")), [
      "hook.db",
      "plan.csv",
      "users.csv",
    ]);
    assert.deepEqual(
      // The throw-away copy is gone too.
      [...Deno.readDirSync("data/tmp")].filter((e) => e.isFile && e.name.startsWith("preview-")),
      [],
    );
  });
});

Deno.test("deno task preview --out - --format json prints the plan on stdout and the summary on stderr", async () => {
  await withLiveDatabase(async (dir, env) => {
    const result = await runTask(
      "preview",
      [`${dir}/users.csv`, "--out", "-", "--format", "json", "--app-id", "0oaOther"],
      { ...env, RESOLUTION_STRATEGIES: "numeric_suffix" },
    );
    assert.equal(result.code, 0);
    assert.equal(
      result.stdout,
      "[\n" +
        '  {"line":2,"id":"E1","original_login":"george.smith@example.com",' +
        '"planned_login":"george.smith2@example.com","outcome":"resolved",' +
        '"strategy":"numeric_suffix","reason":"The login index holds the login for another user","person":null},\n' +
        '  {"line":3,"id":"E2","original_login":"ann.lee@example.com",' +
        '"planned_login":"ann.lee@example.com","outcome":"unchanged","strategy":null,"reason":"","person":null},\n' +
        '  {"line":4,"id":"E3","original_login":null,"planned_login":null,"outcome":"bad",' +
        '"strategy":null,"reason":"Empty userName","person":null},\n' +
        '  {"line":5,"id":"E4","original_login":"george.smith@example.com",' +
        '"planned_login":"george.smith3@example.com","outcome":"resolved",' +
        '"strategy":"numeric_suffix","reason":"The login index holds the login for another user","person":null}\n' +
        "]\n",
    );
    assert.equal(
      withoutTime(result.stderr),
      `Previewed ${dir}/users.csv against a copy of ${dir}/hook.db (1 logins, app "0oaOther") ` +
        "in 0.0 s; the database was not written\n" +
        "  rows                     4\n" +
        "  unchanged                1\n" +
        "  resolved                 2\n" +
        "    numeric_suffix         2\n" +
        "  unresolved               0\n" +
        "  bad rows                 1\n" +
        "line 4: Empty userName\n",
    );
  });
});

Deno.test("deno task preview --help prints the usage and exits 0", async () => {
  const result = await runTask("preview", ["--help"], {});
  assert.equal(result.code, 0);
  assert.equal(result.stderr, "");
  assert.match(result.stdout, /^Usage: deno task preview \[options\] USERS\.csv\n/);
  assert.match(result.stdout, /--id-column NAME {11}Column with the unique identifier/);
});

Deno.test("deno task preview answers bad arguments with one line and exit code 2", async () => {
  const cases: [string[], string][] = [
    [[], "Expected exactly one CSV file (see --help)"],
    [["a.csv", "b.csv"], "Expected exactly one CSV file (see --help)"],
    [["--bogus", "a.csv"], "Unknown option '--bogus' (see --help)"],
    [
      ["a.csv", "--out", "data/plan.txt"],
      'Cannot tell the plan format from "data/plan.txt": add --format csv or json (see --help)',
    ],
    [["a.csv", "--format", "xml"], 'Option --format must be csv or json, got "xml" (see --help)'],
    [["a.csv", "--id-column", " "], "Option --id-column must not be empty (see --help)"],
    [
      ["a.csv", "--login-template", "x@example.com"],
      'Option --login-template must name at least one {column}, got "x@example.com" (see --help)',
    ],
  ];
  for (const [args, message] of cases) {
    const result = await runTask("preview", args, {});
    assert.deepEqual(
      [result.code, result.stderr, result.stdout],
      [2, `${message}\n`, ""],
      args.join(" "),
    );
  }
});

Deno.test("deno task preview fails with exit code 1 and the reason", async () => {
  await withLiveDatabase(async (dir, env) => {
    const cases: [string[], Record<string, string>, string][] = [
      [[`${dir}/none.csv`], env, `Cannot read "${dir}/none.csv": no such file`],
      [[dir], env, `Cannot read "${dir}": it is a directory, not a file`],
      [
        [`${dir}/users.csv`, "--out", `${dir}/missing/plan.csv`],
        env,
        `Cannot write --out "${dir}/missing/plan.csv": its directory "${dir}/missing": no such file`,
      ],
      [
        [`${dir}/users.csv`, "--out", dir, "--format", "csv"],
        env,
        `Cannot write --out "${dir}": it is a directory`,
      ],
      [
        [`${dir}/users.csv`],
        { DB_PATH: `${dir}/none.db` },
        `Cannot read "${dir}/none.db": no such file (start the service or run "deno task seed" first)`,
      ],
      [
        [`${dir}/users.csv`],
        { ...env, RESOLUTION_STRATEGIES: "nickname" },
        'Cannot read RESOLUTION_STRATEGIES: "nickname" is not one of middle_name, middle_initial, numeric_suffix',
      ],
      [
        [`${dir}/users.csv`, "--login-column", "login"],
        env,
        `Cannot preview "${dir}/users.csv": The header has no "login" column (choose another with ` +
        '--login-column): found "employeeId", "userName", "firstName", "middleName", "lastName", "email"',
      ],
    ];
    for (const [args, caseEnv, message] of cases) {
      const result = await runTask("preview", args, caseEnv);
      assert.deepEqual(
        [result.code, result.stderr, result.stdout],
        [1, `${message}\n`, ""],
        args.join(" "),
      );
    }
  });
});

Deno.test("deno task preview plans against a copy of the PostgreSQL index as against SQLite", async () => {
  await withLiveDatabase(async (dir, env) => {
    const onSqlite = await runTask("preview", [`${dir}/users.csv`, "--out", `${dir}/a.csv`], env);
    assert.equal(onSqlite.code, 0, onSqlite.stderr);
    await withPostgresDatabase(async (url) => {
      const { q, sql, close } = await openPgQueryable(url);
      try {
        const port = pgPort(sql);
        await port.reserveIfFree(reservation("george.smith@example.com"));
        const result = await runTask("preview", [`${dir}/users.csv`, "--out", `${dir}/b.csv`], {
          DATABASE_URL: url,
        });
        assert.equal(result.code, 0, result.stderr);
        assert.match(
          result.stdout,
          /against a copy of postgres:\/\/\S+ \(1 logins, app "preview"\)/,
        );
        assert.equal(
          await Deno.readTextFile(`${dir}/b.csv`),
          await Deno.readTextFile(`${dir}/a.csv`),
        );
        // Nothing was written to the live index.
        assert.deepEqual(await q.all("SELECT login FROM logins"), [
          { login: "george.smith@example.com" },
        ]);
      } finally {
        await close();
      }
    });
  });
});
