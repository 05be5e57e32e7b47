import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { Readable } from "node:stream";
import { LoginIndex } from "../store/sqlite_login_index.ts";
import { previewImport, type PreviewOptions, type PreviewReport } from "./preview.ts";
import { withDatabase } from "../../tests/_test_utils.ts";

const OPTIONS: PreviewOptions = {
  idColumn: "employeeId",
  loginColumn: "userName",
  middleNameColumn: "middleName",
  appId: "0oaCsvApp",
  ownerAttributes: ["externalId"],
  middleNameAttribute: "middleName",
  strategies: ["middle_name", "middle_initial", "numeric_suffix"],
  at: "2026-03-02T08:00:00.000Z",
};

const HEADER = "employeeId,userName,firstName,middleName,lastName,email\n";

/** Runs `test` on a fresh migrated database in a temp dir under data/. */
function preview(db: DatabaseSync, csv: string, options: Partial<PreviewOptions> = {}) {
  return previewImport(db, Readable.from([csv]), { ...OPTIONS, ...options });
}

function counts(report: PreviewReport) {
  return {
    rows: report.rows,
    unchanged: report.unchanged,
    resolved: report.resolved,
    byStrategy: Object.fromEntries(report.byStrategy),
    unresolved: report.unresolved,
    bad: report.bad,
  };
}

Deno.test("previewImport() makes rows of one file collide as one import job does", async () => {
  await withDatabase("preview-", async (db) => {
    const report = await preview(
      db,
      HEADER +
        "E1,george.smith@example.com,George,Alexander,Smith,g1@example.com\n" +
        "E2,george.smith@example.com,George,Alexander,Smith,g2@example.com\n" +
        "E3,george.smith@example.com,George,Alexander,Smith,g3@example.com\n" +
        "E4,george.smith@example.com,George,,Smith,g4@example.com\n" +
        "E5,ann.lee@example.com,Ann,,Lee,ann@example.com\n",
    );
    assert.deepEqual(counts(report), {
      rows: 5,
      unchanged: 2,
      resolved: 3,
      byStrategy: { middle_name: 1, middle_initial: 1, numeric_suffix: 1 },
      unresolved: 0,
      bad: 0,
    });
    const taken = "The login index holds the login for another user";
    assert.deepEqual(report.plan, [
      {
        line: 2,
        id: "E1",
        originalLogin: "george.smith@example.com",
        plannedLogin: "george.smith@example.com",
        outcome: "unchanged",
        strategy: null,
        reason: "",
      },
      {
        line: 3,
        id: "E2",
        originalLogin: "george.smith@example.com",
        plannedLogin: "george.alexander.smith@example.com",
        outcome: "resolved",
        strategy: "middle_name",
        reason: taken,
      },
      {
        line: 4,
        id: "E3",
        originalLogin: "george.smith@example.com",
        plannedLogin: "george.a.smith@example.com",
        outcome: "resolved",
        strategy: "middle_initial",
        reason: taken,
      },
      {
        line: 5,
        id: "E4",
        originalLogin: "george.smith@example.com",
        plannedLogin: "george.smith2@example.com",
        outcome: "resolved",
        strategy: "numeric_suffix",
        reason: taken,
      },
      {
        line: 6,
        id: "E5",
        originalLogin: "ann.lee@example.com",
        plannedLogin: "ann.lee@example.com",
        outcome: "unchanged",
        strategy: null,
        reason: "",
      },
    ]);
    assert.deepEqual(report.warnings, []);
  });
});

Deno.test("previewImport() reports unreadable rows by the line they start on and runs the rest", async () => {
  await withDatabase("preview-", async (db) => {
    const report = await preview(
      db,
      HEADER +
        'E1,"ann.lee@example.com",Ann,"Mary\nKate",Lee,ann@example.com\n' +
        "E2,,Bo,,Ek,bo@example.com\n" +
        ",cy.ng@example.com,Cy,,Ng,cy@example.com\n" +
        "\n" +
        "E4,too,few\n" +
        "E5,dee.ox@example.com,Dee,,Ox,dee@example.com\n",
    );
    assert.deepEqual(counts(report), {
      rows: 5,
      unchanged: 2,
      resolved: 0,
      byStrategy: { middle_name: 0, middle_initial: 0, numeric_suffix: 0 },
      unresolved: 0,
      bad: 3,
    });
    assert.deepEqual(
      report.plan.map((row) => [row.line, row.id, row.outcome, row.reason]),
      [
        [2, "E1", "unchanged", ""],
        [4, "E2", "bad", "Empty userName"],
        [5, null, "bad", "Empty employeeId"],
        [7, null, "bad", "Invalid Record Length: columns length is 6, got 3 on line 7"],
        [8, "E5", "unchanged", ""],
      ],
    );
  });
});

Deno.test("previewImport() reports a login no strategy can free as unresolved", async () => {
  await withDatabase("preview-", async (db) => {
    const report = await preview(
      db,
      HEADER + "E1,kim.ro@example.com,Kim,,Ro,a@example.com\n" +
        "E2,kim.ro@example.com,Kim,,Ro,b@example.com\n",
      { strategies: ["middle_name"] },
    );
    assert.equal(report.unresolved, 1);
    assert.deepEqual(report.plan[1], {
      line: 3,
      id: "E2",
      originalLogin: "kim.ro@example.com",
      plannedLogin: null,
      outcome: "unresolved",
      strategy: null,
      reason: "The login index holds the login for another user and no candidate is free: " +
        "middle_name: No middle name in the app user or Okta user profile",
    });
  });
});

Deno.test("previewImport() gives an owner the login an earlier import gave it", async () => {
  await withDatabase("preview-", async (db) => {
    const index = new LoginIndex(db);
    index.reserve({
      login: "lee.park2@example.com",
      owner: JSON.stringify(["0oaCsvApp", "externalId", "E7"]),
      requestedKey: "lee.park@example.com",
      strategy: "numeric_suffix",
      source: "hook",
      eventId: "evt-earlier",
      at: "2026-03-01T00:00:00.000Z",
    });
    const csv = HEADER + "E7,lee.park@example.com,Lee,,Park,lee@example.com\n";
    const same = await preview(db, csv);
    assert.deepEqual(same.plan[0], {
      line: 2,
      id: "E7",
      originalLogin: "lee.park@example.com",
      plannedLogin: "lee.park2@example.com",
      outcome: "resolved",
      strategy: "numeric_suffix",
      reason: "The owner was given this login by an earlier decision",
    });
    // Another app's user with the same id is someone else: the login is simply free.
    const other = await preview(db, csv, { appId: "0oaOtherApp" });
    assert.equal(other.plan[0]!.plannedLogin, "lee.park@example.com");
  });
});

Deno.test("previewImport() reads the id under OWNER_ATTRIBUTE and middle name from the chosen columns", async () => {
  await withDatabase("preview-", async (db) => {
    const report = await preview(
      db,
      "id,login,mn\nA1,jo.day@example.com,Quinn\nA2,jo.day@example.com,Quinn\n",
      {
        idColumn: "id",
        loginColumn: "login",
        middleNameColumn: "mn",
        ownerAttributes: ["employeeNumber"],
        middleNameAttribute: "middle_name",
      },
    );
    assert.deepEqual(report.plan.map((row) => row.plannedLogin), [
      "jo.day@example.com",
      "jo.quinn.day@example.com",
    ]);
    const owners = db.prepare("SELECT owner FROM logins ORDER BY login").all();
    assert.deepEqual(owners.map((row) => row.owner), [
      JSON.stringify(["0oaCsvApp", "employeeNumber", "A1"]),
      JSON.stringify(["0oaCsvApp", "employeeNumber", "A2"]),
    ]);
  });
});

Deno.test("previewImport() refuses a header without the login or id column and warns without middle names", async () => {
  await withDatabase("preview-", async (db) => {
    await assert.rejects(
      preview(db, "employeeId,login\nE1,a@example.com\n"),
      {
        name: "PreviewFormatError",
        message:
          'The header has no "userName" column (choose another with --login-column): found "employeeId", "login"',
      },
    );
    await assert.rejects(preview(db, ""), {
      name: "PreviewFormatError",
      message: "The file is empty: expected a header row",
    });
    const report = await preview(db, "employeeId,userName\nE1,a.b@example.com\n");
    assert.deepEqual(report.warnings, [
      'The header has no "middleName" column: no row has a middle name',
    ]);
  });
});

Deno.test("previewImport() builds each login from the app's username format when given a template", async () => {
  await withDatabase("preview-", async (db) => {
    const csv = HEADER +
      "E1,ignored,Ann,Marie,Lee,a@x.com\n" +
      "E2,ignored,Ann,,Lee,b@x.com\n" +
      "E3,ignored,,Q,Park,c@x.com\n";
    const report = await preview(db, csv, {
      loginTemplate: "{firstName}.{lastName}@example.com",
    });
    assert.deepEqual(report.plan.map((row) => [row.line, row.originalLogin, row.plannedLogin]), [
      [2, "Ann.Lee@example.com", "Ann.Lee@example.com"],
      [3, "Ann.Lee@example.com", "Ann.Lee2@example.com"],
      [4, null, null],
    ]);
    assert.equal(report.plan[2]!.reason, "Empty firstName");
    await assert.rejects(
      preview(db, csv, { loginTemplate: "{givenName}@example.com" }),
      /The header has no "givenName" column \(choose another with --login-template\)/,
    );
  });
});

Deno.test("previewImport() with PERSON_ATTRIBUTE judges each conflict per row as the service would", async () => {
  await withDatabase("preview-", async (db) => {
    // Pat's old account (from a seed or sync: its Okta id and person value are known).
    db.prepare(
      `INSERT INTO logins (login_key, login, strategy, source, created_at, okta_user_id, person)
       VALUES ('pat.doe@example.com', 'pat.doe@example.com', 'seed', 'seed', 't', '00uPat', 'N-1')`,
    ).run();
    const csv = "employeeId,userName,middleName,employeeNumber\n" +
      "E1,pat.doe@example.com,Quinn,N-1\n" + // Pat returning
      "E2,pat.doe@example.com,Lee,N-2\n"; // another Pat Doe
    const act = await preview(db, csv, { personAttribute: "employeeNumber", personMatch: "act" });
    assert.deepEqual(
      act.plan.map((row) => [row.outcome, row.plannedLogin, row.person]),
      [
        ["linked", "pat.doe@example.com", "same, linked"],
        ["resolved", "pat.lee.doe@example.com", "different"],
      ],
    );
    assert.equal(act.linked, 1);
  });
});
