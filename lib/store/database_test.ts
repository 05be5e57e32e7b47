import assert from "node:assert/strict";
import { AuditLog } from "./sqlite_audit.ts";
import { DatabaseSync } from "node:sqlite";
import { openDatabase, SCHEMA_VERSION } from "./database.ts";
import { withTempDir } from "../../tests/_test_utils.ts";

function pragma(db: DatabaseSync, name: string): unknown {
  return Object.values(db.prepare(`PRAGMA ${name}`).get()!)[0];
}

function schemaObjects(db: DatabaseSync): string[] {
  return db.prepare(
    "SELECT type || ' ' || name AS o FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
  ).all().map((row) => String(row.o));
}

const OBJECTS = [
  "index decisions_by_job",
  "index decisions_by_time",
  "index logins_by_owner",
  "index logins_seen_by_sync",
  "index rejections_by_time",
  "index releases_by_time",
  "table decisions",
  "table logins",
  "table rejections",
  "table releases",
  "table suffix_counters",
  "view job_summary",
  "view login_changes",
  "view rejections_by_day",
];

/**
 * A file as version `version` left it, after `setup`, opened again by this code: migrated to
 * SCHEMA_VERSION with every object, then given to `check`.
 */
function fromVersion(
  version: number,
  setup: (db: DatabaseSync) => void,
  check: (migrated: DatabaseSync) => void,
): Promise<void> {
  return withTempDir("database-", (dir) => {
    const db = openDatabase(`${dir}/hook.db`, { schemaVersion: version });
    setup(db);
    db.close();
    const migrated = openDatabase(`${dir}/hook.db`);
    try {
      assert.equal(pragma(migrated, "user_version"), SCHEMA_VERSION);
      assert.deepEqual(schemaObjects(migrated), OBJECTS);
      check(migrated);
    } finally {
      migrated.close();
    }
  });
}

Deno.test("openDatabase() migrates a fresh file to SCHEMA_VERSION", async () => {
  await withTempDir("database-", (dir) => {
    const dbPath = `${dir}/hook.db`;
    const db = openDatabase(dbPath);
    try {
      assert.equal(pragma(db, "user_version"), SCHEMA_VERSION);
      assert.deepEqual(schemaObjects(db), OBJECTS);
      assert.equal(db.isTransaction, false);
    } finally {
      db.close();
    }
  });
});

Deno.test("openDatabase() sets WAL, synchronous=FULL, the busy timeout and, when asked, journals in memory", async () => {
  await withTempDir("database-", (dir) => {
    const dbPath = `${dir}/hook.db`;
    const db = openDatabase(dbPath, { busyTimeoutMs: 1234.7 });
    try {
      assert.equal(pragma(db, "journal_mode"), "wal");
      assert.equal(pragma(db, "synchronous"), 2); // FULL
      assert.equal(pragma(db, "busy_timeout"), 1234);
    } finally {
      db.close();
    }
    const defaults = openDatabase(dbPath);
    try {
      assert.equal(pragma(defaults, "busy_timeout"), 5000);
      assert.equal(pragma(defaults, "temp_store"), 0); // the build's default: files
    } finally {
      defaults.close();
    }
    // The decision worker's settings: it fdatasyncs the WAL itself after each COMMIT, and keeps
    // the journals of its savepoints in memory.
    const normal = openDatabase(dbPath, { synchronous: "NORMAL", journalsInMemory: true });
    try {
      assert.equal(pragma(normal, "synchronous"), 1);
      assert.equal(pragma(normal, "temp_store"), 2); // MEMORY
    } finally {
      normal.close();
    }
  });
});

/** SQLite's temporary files this process holds open (it unlinks them at once: "(deleted)"). */
function openTempFiles(): string[] {
  const out = new Deno.Command("ls", { args: ["-l", `/proc/${Deno.pid}/fd`] }).outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter((line) =>
    line.includes("etilqs_")
  );
}

Deno.test("openDatabase() with journalsInMemory keeps a large savepoint's journal out of temporary files", async () => {
  await withTempDir("database-", (dir) => {
    const held: Record<string, number> = {};
    for (const journalsInMemory of [false, true]) {
      const db = openDatabase(`${dir}/journals-${journalsInMemory}.db`, { journalsInMemory });
      try {
        db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)");
        const insert = db.prepare("INSERT INTO t VALUES (?, ?)");
        db.exec("BEGIN IMMEDIATE");
        for (let i = 0; i < 3000; i++) insert.run(`k${i}`, "x".repeat(500));
        db.exec("COMMIT");
        // One savepoint that changes far more than 64 KiB of existing pages, as a page split does.
        db.exec("BEGIN IMMEDIATE");
        db.exec("SAVEPOINT s");
        db.exec("UPDATE t SET v = 'y' || v");
        db.exec("RELEASE s");
        held[String(journalsInMemory)] = openTempFiles().length;
        db.exec("COMMIT");
      } finally {
        db.close();
      }
    }
    // Without the option SQLite spills the journal to a file (so this test sees files at all).
    assert.ok(held.false! > 0, "the default kept the journal in memory: the check sees nothing");
    assert.equal(held.true, 0);
  });
});

Deno.test("openDatabase() reopens a migrated file without changing it", async () => {
  await withTempDir("database-", (dir) => {
    const dbPath = `${dir}/hook.db`;
    const first = openDatabase(dbPath);
    first.exec(
      "INSERT INTO logins (login_key, login, strategy, source, created_at) VALUES ('a@x.com', 'A@x.com', 'seed', 'seed', 't')",
    );
    first.close();
    const again = openDatabase(dbPath);
    try {
      assert.equal(pragma(again, "user_version"), SCHEMA_VERSION);
      assert.deepEqual(schemaObjects(again), OBJECTS);
      assert.deepEqual(
        again.prepare("SELECT login_key, login FROM logins").all().map((row) => ({ ...row })),
        [{ login_key: "a@x.com", login: "A@x.com" }],
      );
    } finally {
      again.close();
    }
  });
});

Deno.test("openDatabase() migrates a version 1 file up, keeping its rows", async () => {
  await fromVersion(
    1,
    (db) =>
      db.exec(`INSERT INTO logins (login_key, login, strategy, source, created_at)
        VALUES ('a@x.com', 'a@x.com', 'seed', 'seed', 't')`),
    (migrated) => {
      assert.deepEqual(
        { ...migrated.prepare("SELECT login, okta_user_id, seen_at FROM logins").get() },
        { login: "a@x.com", okta_user_id: null, seen_at: null },
      );
    },
  );
});

Deno.test("openDatabase() re-keys a version 6 index by the stricter fold, losing no row", async () => {
  await fromVersion(
    6,
    // Keys as version 6 folded them: case and diacritics only.
    (db) => {
      const row = db.prepare(
        `INSERT INTO logins (login_key, login, owner, requested_key, strategy, source, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      row.run("søren@x.com", "Søren@x.com", null, null, "seed", "seed", "1");
      row.run("soren@x.com", "soren@x.com", "A", "søren.k@x.com", "unchanged", "hook", "2");
      row.run("straße@x.com", "straße@x.com", "B", "straße@x.com", "unchanged", "hook", "3");
      row.run("strasse@x.com", "STRASSE@x.com", null, null, "seed", "seed", "4");
      row.run("ﬁona@x.com", "ﬁona@x.com", "C", "ﬁona@x.com", "unchanged", "hook", "5");
      row.run("ｆiona@x.com", "ｆiona@x.com", "D", "ｆiona@x.com", "unchanged", "hook", "6");
      db.exec(`INSERT INTO suffix_counters VALUES ('łukasz@x.com', 3), ('lukasz@x.com', 5)`);
    },
    (migrated) => {
      const rows = migrated.prepare(
        "SELECT login_key, login, owner, requested_key FROM logins ORDER BY login_key",
      ).all().map((r) => ({ ...r }));
      assert.deepEqual(rows, [
        // The row whose key did not change keeps it; the other keeps its old key.
        { login_key: "fiona@x.com", login: "ﬁona@x.com", owner: "C", requested_key: "fiona@x.com" },
        {
          login_key: "soren@x.com",
          login: "soren@x.com",
          owner: "A",
          requested_key: "soren.k@x.com",
        },
        { login_key: "strasse@x.com", login: "STRASSE@x.com", owner: null, requested_key: null },
        {
          login_key: "straße@x.com",
          login: "straße@x.com",
          owner: "B",
          requested_key: "strasse@x.com",
        },
        { login_key: "søren@x.com", login: "Søren@x.com", owner: null, requested_key: null },
        {
          login_key: "ｆiona@x.com",
          login: "ｆiona@x.com",
          owner: "D",
          requested_key: "fiona@x.com",
        },
      ]);
      assert.deepEqual(
        migrated.prepare("SELECT base_key, next_suffix FROM suffix_counters").all().map((r) => ({
          ...r,
        })),
        [{ base_key: "lukasz@x.com", next_suffix: 5 }],
      );
    },
  );
});

Deno.test("openDatabase() refuses a file with a newer schema and leaves it untouched", async () => {
  await withTempDir("database-", (dir) => {
    const dbPath = `${dir}/hook.db`;
    const newer = new DatabaseSync(dbPath);
    newer.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    assert.throws(
      () => openDatabase(dbPath),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message ===
          `Cannot use the database: its schema version ${
            SCHEMA_VERSION + 1
          } is newer than this service's ${SCHEMA_VERSION}`,
    );
    const check = new DatabaseSync(dbPath);
    try {
      assert.equal(pragma(check, "user_version"), SCHEMA_VERSION + 1);
      assert.deepEqual(schemaObjects(check), []);
    } finally {
      check.close();
    }
  });
});

Deno.test("openDatabase() indexes only sync rows by seen_at, for sync --prune", async () => {
  await withTempDir("database-", (dir) => {
    const dbPath = `${dir}/hook.db`;
    const db = openDatabase(dbPath);
    try {
      const plan = db.prepare(
        "EXPLAIN QUERY PLAN DELETE FROM logins WHERE source = 'sync' AND (seen_at IS NULL OR seen_at < ?)",
      ).all().map((row) => String(row.detail));
      assert.deepEqual(plan, ["SCAN logins USING INDEX logins_seen_by_sync"]);
      const sql = db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'logins_seen_by_sync'")
        .get() as { sql: string };
      assert.match(sql.sql, /WHERE source = 'sync'$/);
    } finally {
      db.close();
    }
  });
});

Deno.test("openDatabase() creates the file, its -wal and -shm readable by the owner only, under umask 000", async () => {
  await withTempDir("database-", async (dir) => {
    const dbPath = `${dir}/hook.db`;
    // A child with umask 000: the modes must come from the code, not from the umask.
    const script = `
      import { openDatabase } from ${
      JSON.stringify(new URL("./database.ts", import.meta.url).href)
    };
      const db = openDatabase(${JSON.stringify(dbPath)});
      db.exec("INSERT INTO suffix_counters (base_key, next_suffix) VALUES ('a', 2)");
      const modes = ["", "-wal", "-shm"].map((s) => (Deno.statSync(${
      JSON.stringify(dbPath)
    } + s).mode & 0o777).toString(8));
      console.log(modes.join(" "));
      db.close();
    `;
    const output = await new Deno.Command("sh", {
      args: ["-c", 'umask 000 && exec "$0" eval "$1"', Deno.execPath(), script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    assert.equal(new TextDecoder().decode(output.stdout).trim(), "600 600 600");
  });
});

Deno.test("openDatabase() moves a version 8 audit to (event_id, fingerprint) keys, keeping every row and view", async () => {
  await fromVersion(
    8,
    // A file as version 8 left it: decisions keyed by event_id alone, no person columns.
    (db) =>
      db.exec(
        `INSERT INTO decisions (event_id, received_at, job_id, owner, action, original_login,
        final_login, outcome, strategy, status, response, duration_ms, owner_source)
      VALUES ('evt-old', '2026-01-01T00:00:00.000Z', 'job-1', '["0oa","employeeId","E1"]',
        'CREATE_USER', 'a@x.com', 'a.b@x.com', 'resolved', 'middle_name', 200, '{"commands":[]}',
        1.5, 'attribute')`,
      ),
    (migrated) => {
      assert.deepEqual(
        { ...migrated.prepare("SELECT event_id, fingerprint, person_match FROM decisions").get() },
        { event_id: "evt-old", fingerprint: "", person_match: null },
      );
      assert.deepEqual(
        { ...migrated.prepare("SELECT job_id, resolved FROM job_summary").get() },
        { job_id: "job-1", resolved: 1 },
      );
      // A decision from before fingerprints is still replayed to Okta's retry.
      const prior = new AuditLog(migrated).findDecision("evt-old", '["anything"]');
      assert.equal(prior?.sameInputs && prior.decision.reply.body, '{"commands":[]}');
    },
  );
});
