/**
 * The SQLite migrations that need code, not only SQL: they use the service's own functions or
 * rebuild a table SQLite cannot alter in place. database.ts lists them in order.
 */

import type { DatabaseSync } from "node:sqlite";
import { loginKey } from "../decision/fold_name.ts";

/**
 * Drops the views over `table` and returns what creates them again from their own text: a table
 * rebuilt under them keeps its views.
 */
export function dropViewsOver(db: DatabaseSync, table: string): () => void {
  const views = db.prepare(
    "SELECT name, sql FROM sqlite_schema WHERE type = 'view' AND sql LIKE ? ORDER BY name",
  ).all(`%${table}%`) as { name: string; sql: string }[];
  for (const view of views) db.exec(`DROP VIEW ${view.name}`);
  return () => {
    for (const view of views) db.exec(view.sql);
  };
}

/** The columns version 9 adds to `decisions`, after the key and judgement of each decision. */
const KEYED_COLUMNS = "owner_attribute TEXT, fingerprint TEXT NOT NULL DEFAULT '', person TEXT, " +
  "holder_person TEXT, person_match TEXT, person_action TEXT, PRIMARY KEY (event_id, fingerprint)";

/**
 * Rebuilds `decisions` with the primary key (event_id, fingerprint), the outcome `linked` and the
 * columns of version 9: SQLite cannot change a table's key in place. The new table is the old
 * one's own definition, edited, so every column keeps its type and collation; an edit that does
 * not apply stops the migration rather than guess.
 */
export function keyDecisionsByInputs(db: DatabaseSync): void {
  const old = (db.prepare(
    "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'decisions'",
  ).get() as { sql: string }).sql;
  const edits: [RegExp, string][] = [
    // Quoted once a rename made the table (SQLite writes the new name in quotes).
    [/^CREATE TABLE "?decisions"?(?=\s*\()/, "CREATE TABLE decisions_keyed"],
    [/\bevent_id(\s+)TEXT PRIMARY KEY/, "event_id$1TEXT NOT NULL"],
    [/'skipped'\)\)/, "'skipped', 'linked'))"],
    [/\)\s*$/, `, ${KEYED_COLUMNS})`],
  ];
  let keyed = old;
  for (const [pattern, replacement] of edits) {
    if (!pattern.test(keyed)) throw new Error(`Cannot migrate decisions: ${pattern} not found`);
    keyed = keyed.replace(pattern, replacement);
  }
  const columns = (db.prepare("SELECT name FROM pragma_table_info('decisions') ORDER BY cid")
    .all() as { name: string }[]).map((c) => c.name).join(", ");
  const restoreViews = dropViewsOver(db, "decisions");
  db.exec(`
  ${keyed};
  INSERT INTO decisions_keyed (${columns}) SELECT ${columns} FROM decisions;
  DROP TABLE decisions;
  ALTER TABLE decisions_keyed RENAME TO decisions;
  CREATE INDEX decisions_by_job ON decisions (job_id, received_at);
  CREATE INDEX decisions_by_time ON decisions (received_at);
  ALTER TABLE logins ADD COLUMN person TEXT;
  `);
  restoreViews();
}

/**
 * Recomputes every key of the login index and the suffix counters with today's {@link loginKey}.
 * The new key is coarser, so two held logins may now share one: the row whose key does not
 * change keeps it, else one with an owner (a reservation outranks a seeded login), else the
 * oldest. Any other row of that key stays under its old key, so no reservation is lost: it no
 * longer answers a lookup, but the row holding its new key keeps every login of that key taken.
 * Old keys never collide with new ones: a new key is a fixed point of the fold, an old key that
 * had to change is not.
 */
export function rekeyLogins(db: DatabaseSync): void {
  db.function(
    "login_key_now",
    { deterministic: true },
    (text: unknown) => typeof text === "string" ? loginKey(text) : null,
  );
  db.exec(`
  CREATE TABLE logins_rekeyed (
    login_key     TEXT PRIMARY KEY,
    login         TEXT NOT NULL,
    owner         TEXT,
    requested_key TEXT,
    strategy      TEXT NOT NULL,
    source        TEXT NOT NULL,
    event_id      TEXT,
    created_at    TEXT NOT NULL,
    okta_user_id  TEXT,
    seen_at       TEXT
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO logins_rekeyed
  SELECT login_key_now(login), login, owner, login_key_now(requested_key), strategy, source,
         event_id, created_at, okta_user_id, seen_at
  FROM logins
  ORDER BY login_key_now(login) = login_key DESC, owner IS NULL, created_at, login_key;
  INSERT INTO logins_rekeyed
  SELECT login_key, login, owner, login_key_now(requested_key), strategy, source, event_id,
         created_at, okta_user_id, seen_at
  FROM logins AS old
  WHERE NOT EXISTS (SELECT 1 FROM logins_rekeyed AS new
                    WHERE new.login_key = login_key_now(old.login) AND new.login = old.login);
  DROP TABLE logins;
  ALTER TABLE logins_rekeyed RENAME TO logins;
  CREATE INDEX logins_by_owner ON logins (owner, requested_key) WHERE owner IS NOT NULL;
  CREATE INDEX logins_seen_by_sync ON logins (seen_at) WHERE source = 'sync';

  CREATE TABLE suffix_counters_rekeyed (
    base_key    TEXT PRIMARY KEY,
    next_suffix INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO suffix_counters_rekeyed
  SELECT login_key_now(base_key), max(next_suffix) FROM suffix_counters GROUP BY 1;
  DROP TABLE suffix_counters;
  ALTER TABLE suffix_counters_rekeyed RENAME TO suffix_counters;
  `);
}
