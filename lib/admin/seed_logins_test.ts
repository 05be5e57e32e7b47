import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { LoginIndex } from "../store/sqlite_login_index.ts";
import { sqliteSeedSink } from "../store/seed_store.ts";
import { SeedFormatError, seedLogins } from "./seed_logins.ts";
import { withDatabase } from "../../tests/_test_utils.ts";
import { withPostgresDatabase } from "../../tests/_postgres.ts";
import { openQueryable } from "../store/queryable.ts";

const AT = "2026-03-02T08:00:00.000Z";

function csv(text: string): Readable {
  return Readable.from([text]);
}

Deno.test("seedLogins() reserves every login of Okta's export for no one, keeping the first of one key", async () => {
  await withDatabase("seed-logins-", async (db) => {
    const report = await seedLogins(
      sqliteSeedSink(db),
      csv(
        '\uFEFFUsername,Email\r\nZoë.Darcy@x.com,a\r\n"zoe.darcy@X.com",b\r\n,c\r\nann@x.com,d\r\n',
      ),
      { at: AT },
    );
    assert.deepEqual(report, {
      column: "Username",
      rows: 4,
      added: 2,
      alreadyPresent: 1,
      bad: [{ line: 4, reason: "Empty Username" }],
      notEmail: 0,
      notEmailShown: [],
    });
    const index = new LoginIndex(db);
    assert.deepEqual(
      { ...index.find("zoe.darcy@x.com") },
      {
        loginKey: "zoe.darcy@x.com",
        oktaStatus: null,
        person: null,
        oktaUserId: null,
        login: "Zoë.Darcy@x.com",
        owner: null,
        requestedKey: null,
        strategy: "seed",
        source: "seed",
      },
    );
  });
});

Deno.test("seedLogins() takes only the exact column names, or the one it is given", async () => {
  await withDatabase("seed-logins-", async (db) => {
    // The CSV Directory's import file: its userName is what is being imported, not Okta's logins.
    const importFile = "userName,firstName\nann@x.com,Ann\n";
    for (const header of ["userName,firstName", "username,x", "LOGIN,x", "Login,x"]) {
      await assert.rejects(
        seedLogins(sqliteSeedSink(db), csv(`${header}\nann@x.com,Ann\n`), { at: AT }),
        (error: unknown) =>
          error instanceof SeedFormatError &&
          error.message.includes("(or name it with --column)") &&
          error.message.endsWith(header.split(",").map((name) => `"${name}"`).join(", ")),
      );
    }
    const report = await seedLogins(sqliteSeedSink(db), csv(importFile), {
      at: AT,
      column: "userName",
    });
    assert.equal(report.column, "userName");
    assert.equal(report.added, 1);
    await assert.rejects(
      seedLogins(sqliteSeedSink(db), csv("login\nx@x.com\n"), { at: AT, column: "mail" }),
      /expected "mail" \(--column\), found "login"$/,
    );
  });
});

Deno.test("seedLogins() loads values that are not email-shaped, counting them and keeping the first lines", async () => {
  await withDatabase("seed-logins-", async (db) => {
    const values = ["jsmith", "ann@x.com", "bo chen@x.com", "cy@x", "d1", "d2", "d3", "d4"];
    const report = await seedLogins(
      sqliteSeedSink(db),
      csv(`login\n${values.join("\n")}\n`),
      { at: AT },
    );
    assert.equal(report.added, 8);
    assert.equal(report.notEmail, 7);
    assert.deepEqual(report.notEmailShown, [
      { line: 2, reason: '"jsmith"' },
      { line: 4, reason: '"bo chen@x.com"' },
      { line: 5, reason: '"cy@x"' },
      { line: 6, reason: '"d1"' },
      { line: 7, reason: '"d2"' },
    ]);
  });
});

Deno.test("seedLogins() lists a row the CSV reader cannot read, as preview does, and loads the rest", async () => {
  await withDatabase("seed-logins-", async (db) => {
    const report = await seedLogins(
      sqliteSeedSink(db),
      csv('login,title\nann@x.com,a\nbo@x.com,b"roken\n,empty\ncy@x.com,c\n'),
      { at: AT },
    );
    assert.equal(report.rows, 4);
    assert.equal(report.added, 2);
    assert.equal(report.alreadyPresent, 0);
    assert.equal(report.bad.length, 2);
    assert.match(report.bad[0]!.reason, /^Invalid Opening Quote: .* at line 3/);
    assert.equal(report.bad[0]!.line, 3);
    assert.deepEqual(report.bad[1], { line: 4, reason: "Empty login" });
    const index = new LoginIndex(db);
    assert.ok(index.find("cy@x.com") !== undefined);
    assert.equal(index.find("bo@x.com"), undefined);
  });
});

Deno.test("seedLogins() run again adds nothing", async () => {
  await withDatabase("seed-logins-", async (db) => {
    await seedLogins(sqliteSeedSink(db), csv("login\na@x.com\nb@x.com\n"), { at: AT });
    const again = await seedLogins(sqliteSeedSink(db), csv("login\na@x.com\nb@x.com\n"), {
      at: AT,
    });
    assert.deepEqual([again.added, again.alreadyPresent], [0, 2]);
  });
});

Deno.test("seedLogins() refuses a header without a login column and an empty file, loading nothing", async () => {
  await withDatabase("seed-logins-", async (db) => {
    await assert.rejects(
      seedLogins(sqliteSeedSink(db), csv("email\na@x.com\n"), { at: AT }),
      SeedFormatError,
    );
    await assert.rejects(seedLogins(sqliteSeedSink(db), csv(""), { at: AT }), /The file is empty/);
    assert.deepEqual({ ...db.prepare("SELECT count(*) AS n FROM logins").get() }, { n: 0 });
  });
});

Deno.test("seedLogins() keeps each holder's Okta user id, status and person value when the file has them", async () => {
  await withDatabase("seed-logins-", async (db) => {
    const file = "Username,id,Status,employeeNumber\n" +
      "pat@x.com,00uPat,DEPROVISIONED,N-100\nlee@x.com,,ACTIVE,\n";
    const options = { at: AT, personAttribute: "employeeNumber" };
    const report = await seedLogins(sqliteSeedSink(db), csv(file), options);
    assert.equal(report.added, 2);
    const rows = db.prepare(
      "SELECT login, owner, okta_user_id, okta_status, person FROM logins ORDER BY login",
    ).all().map((row) => ({ ...row }));
    assert.deepEqual(rows, [
      { login: "lee@x.com", owner: null, okta_user_id: null, okta_status: "ACTIVE", person: null },
      {
        login: "pat@x.com",
        owner: null,
        okta_user_id: "00uPat",
        okta_status: "DEPROVISIONED",
        person: "N-100",
      },
    ]);
    // The index answers with the holder's person value: a returning Pat can be recognised.
    assert.equal(new LoginIndex(db).find("PAT@x.com")?.person, "N-100");
  });
});

Deno.test("seedLogins() keeps the holder's id, status and person on PostgreSQL too", async () => {
  await withPostgresDatabase(async (url) => {
    const opened = await openQueryable({ dbPath: "unused", databaseUrl: url });
    try {
      await seedLogins(
        opened.seedSink,
        csv("login,id,status,employeeNumber\npat@x.com,00uPat,DEPROVISIONED,N-100\n"),
        { at: AT, personAttribute: "employeeNumber" },
      );
      const rows = await opened.q.all(
        "SELECT login, okta_user_id, okta_status, person FROM logins",
      );
      assert.deepEqual(rows, [
        {
          login: "pat@x.com",
          okta_user_id: "00uPat",
          okta_status: "DEPROVISIONED",
          person: "N-100",
        },
      ]);
    } finally {
      await opened.close();
    }
  });
});
