import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { makeTempDir, withTempDir } from "../../tests/_test_utils.ts";
import { withPostgresDatabase } from "../../tests/_postgres.ts";
import postgres from "postgres";
import { runTask } from "../../tests/_run_task.ts";

/** Runs `test` in a temp dir under data/ with the path of a database file there. */
function logins(dbPath: string) {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return db.prepare(
      "SELECT login_key AS loginKey, login, owner, strategy, source FROM logins ORDER BY login_key",
    ).all().map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}

/** An Okta user export: BOM, CRLF, quoted fields with commas and quotes, an empty login. */
const OKTA_EXPORT = "\uFEFF" + [
  "User Id,Username,Display Name,Title",
  '00u1,ana.lima@example.com,"Lima, Ana",Engineer',
  '00u2,Zoë.Darcy@Example.com,"Darcy, Zoë","Head of ""Ops"", EMEA"',
  '00u3,,"Nobody, Nemo",Intern',
  "00u4, bo.chen@example.com ,Bo Chen,",
  "",
].join("\r\n");

Deno.test("deno task seed loads an Okta user export by its Username column", async () => {
  await withTempDir("seed-", async (dir) => {
    const dbPath = `${dir}/hook.db`;
    const file = `${dir}/users.csv`;
    await Deno.writeTextFile(file, OKTA_EXPORT);
    const result = await runTask("seed", [file], { DB_PATH: dbPath });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    const lines = result.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 2, result.stdout);
    assert.match(
      lines[0]!,
      new RegExp(
        `^Seeded ${dbPath} from ${file} \\(column "Username"\\) in \\d+\\.\\d s: ` +
          "4 rows, 3 added, 0 already present, 1 bad$",
      ),
    );
    assert.equal(lines[1], "  line 4: Empty Username");
    assert.deepEqual(logins(dbPath), [
      {
        loginKey: "ana.lima@example.com",
        login: "ana.lima@example.com",
        owner: null,
        strategy: "seed",
        source: "seed",
      },
      {
        loginKey: "bo.chen@example.com",
        login: "bo.chen@example.com",
        owner: null,
        strategy: "seed",
        source: "seed",
      },
      {
        loginKey: "zoe.darcy@example.com",
        login: "Zoë.Darcy@Example.com",
        owner: null,
        strategy: "seed",
        source: "seed",
      },
    ]);
  });
});

// csv-parse counts a CRLF inside a quoted field as two lines; the seed's CRLF-to-LF step keeps
// the reported lines right.
Deno.test("deno task seed reports the line of a bad row after a quoted field holding a CRLF", async () => {
  await withTempDir("seed-", async (dir) => {
    const dbPath = `${dir}/hook.db`;
    const file = `${dir}/users.csv`;
    await Deno.writeTextFile(
      file,
      'Username,Title\r\nana@example.com,"two\r\nlines"\r\n,Intern\r\nbo@example.com,\r\n',
    );
    const result = await runTask("seed", [file], { DB_PATH: dbPath });
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /: 3 rows, 2 added, 0 already present, 1 bad\n {2}line 4: Empty Username\n$/,
    );
  });
});

Deno.test("deno task seed run twice adds nothing the second time", async () => {
  await withTempDir("seed-", async (dir) => {
    const dbPath = `${dir}/hook.db`;
    const file = `${dir}/users.csv`;
    await Deno.writeTextFile(file, "login\nana@example.com\nANA@example.com\nbo@example.com\n");
    const first = await runTask("seed", [file], { DB_PATH: dbPath });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /: 3 rows, 2 added, 1 already present, 0 bad\n$/);
    const second = await runTask("seed", [file], { DB_PATH: dbPath });
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stdout,
      /\(column "login"\) in [\d.]+ s: 3 rows, 0 added, 3 already present, 0 bad\n$/,
    );
    assert.deepEqual(logins(dbPath).map((row) => row.login), ["ana@example.com", "bo@example.com"]);
  });
});

Deno.test("deno task seed exits 1 and names the columns when the file has no login column", async () => {
  await withTempDir("seed-", async (dir) => {
    const dbPath = `${dir}/hook.db`;
    const file = `${dir}/users.csv`;
    await Deno.writeTextFile(file, "id,email\n1,ana@example.com\n");
    const result = await runTask("seed", [file], { DB_PATH: dbPath });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      `Cannot seed from "${file}": The header has no login column: expected "login" or "Username" (or name it with --column), found "id", "email"\n`,
    );
    assert.deepEqual(logins(dbPath), []);
  });
});

Deno.test("deno task seed refuses the CSV Directory's import file (userName) unless --column names it", async () => {
  await withTempDir("seed-", async (dir) => {
    const dbPath = `${dir}/hook.db`;
    const file = `${dir}/import.csv`;
    await Deno.writeTextFile(file, "userName,firstName,lastName\nann@x.com,Ann,Lee\n");
    const refused = await runTask("seed", [file], { DB_PATH: dbPath });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /found "userName", "firstName", "lastName"\n$/);
    assert.deepEqual(logins(dbPath), []);
    const named = await runTask("seed", [file, "--column", "userName"], { DB_PATH: dbPath });
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stdout, /\(column "userName"\) in [\d.]+ s: 1 rows, 1 added/);
    assert.deepEqual(logins(dbPath).map((row) => row.login), ["ann@x.com"]);
  });
});

Deno.test("deno task seed warns, with a count and the first lines, about logins that are not email-shaped", async () => {
  await withTempDir("seed-", async (dir) => {
    const dbPath = `${dir}/hook.db`;
    const file = `${dir}/users.csv`;
    const names = Array.from({ length: 7 }, (_, i) => `user${i}`);
    await Deno.writeTextFile(file, `login\nann@x.com\n${names.join("\n")}\n`);
    const result = await runTask("seed", [file], { DB_PATH: dbPath });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /: 8 rows, 8 added, 0 already present, 0 bad\n$/);
    assert.equal(
      result.stderr,
      [
        'Warning: 7 of the logins in column "login" are not email-shaped, as Okta logins usually ' +
        "are: is this the column of Okta's logins?",
        '  line 3: "user0"',
        '  line 4: "user1"',
        '  line 5: "user2"',
        '  line 6: "user3"',
        '  line 7: "user4"',
        "  ... and 2 more",
        "",
      ].join("\n"),
    );
  });
});

Deno.test("deno task seed lists a row it cannot read and loads the rest, as preview does", async () => {
  await withTempDir("seed-", async (dir) => {
    const dbPath = `${dir}/hook.db`;
    const file = `${dir}/users.csv`;
    await Deno.writeTextFile(file, 'login,title\nann@x.com,a\nbo@x.com,b"roken\ncy@x.com,c\n');
    const result = await runTask("seed", [file], { DB_PATH: dbPath });
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /: 3 rows, 2 added, 0 already present, 1 bad\n {2}line 3: Invalid Opening Quote: a quote is found on field "title" at line 3, value is "b"\n$/,
    );
    assert.deepEqual(logins(dbPath).map((row) => row.login), ["ann@x.com", "cy@x.com"]);
  });
});

Deno.test("deno task seed exits 1 on an empty file", async () => {
  await withTempDir("seed-", async (dir) => {
    const dbPath = `${dir}/hook.db`;
    const file = `${dir}/empty.csv`;
    await Deno.writeTextFile(file, "");
    const result = await runTask("seed", [file], { DB_PATH: dbPath });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `Cannot seed from "${file}": The file is empty: expected a header row\n`,
    );
  });
});

Deno.test("deno task seed exits 1 when the file does not exist, creating no database", async () => {
  await withTempDir("seed-", async (dir) => {
    const dbPath = `${dir}/hook.db`;
    const file = `${dir}/missing.csv`;
    const result = await runTask("seed", [file], { DB_PATH: dbPath });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`^Cannot read "${file}": no such file\n$`),
    );
    await assert.rejects(Deno.stat(dbPath), Deno.errors.NotFound);
  });
});

Deno.test("deno task seed given a directory says so in one line, before opening the database", async () => {
  await withTempDir("seed-", async (dir) => {
    const dbPath = `${dir}/hook.db`;
    const result = await runTask("seed", [dir], { DB_PATH: dbPath });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `Cannot read "${dir}": it is a directory, not a file\n`);
    await assert.rejects(Deno.stat(dbPath), Deno.errors.NotFound);
  });
});

Deno.test("deno task seed exits 2 without a file argument", async () => {
  const result = await runTask("seed", [], {});
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "");
  assert.equal(result.stderr, "Expected exactly one CSV file (see --help)\n");
});

Deno.test("deno task seed --help prints the usage and exits 0", async () => {
  const result = await runTask("seed", ["--help"], {});
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^Usage: deno task seed FILE\.csv \[--column NAME\]\n/);
  assert.match(result.stdout, /"Username" as in Okta's user export/);
  assert.match(result.stdout, /--column NAME {3}the login column's exact name/);
});

Deno.test("deno task seed loads a CSV into PostgreSQL with DATABASE_URL, first of one key kept", async () => {
  await withPostgresDatabase(async (url) => {
    const dir = await makeTempDir("seed-pg-");
    try {
      const file = `${dir}/users.csv`;
      await Deno.writeTextFile(
        file,
        "login,firstName\nZoë.Darcy@x.com,Zoë\nzoe.darcy@X.com,Zoe\n,Empty\nsoren@x.com,S\n",
      );
      const first = await runTask("seed", [file], { DATABASE_URL: url });
      assert.equal(first.code, 0, first.stderr);
      assert.match(
        first.stdout,
        /4 rows, 2 added, 1 already present, 1 bad\n {2}line 4: Empty login\n$/,
      );
      const again = await runTask("seed", [file], { DATABASE_URL: url });
      assert.match(again.stdout, /4 rows, 0 added, 3 already present, 1 bad/);
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      try {
        const rows =
          await sql`SELECT login_key, login, owner, source FROM logins ORDER BY login_key`;
        assert.deepEqual(rows.map((r) => ({ ...r })), [
          { login_key: "soren@x.com", login: "soren@x.com", owner: null, source: "seed" },
          { login_key: "zoe.darcy@x.com", login: "Zoë.Darcy@x.com", owner: null, source: "seed" },
        ]);
      } finally {
        await sql.end();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
