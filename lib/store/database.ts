/**
 * Opens the SQLite file the service shares with admins and with other processes, and brings its
 * schema up to date. The version lives in `PRAGMA user_version`.
 */

import { LOGIN_CHANGES_VIEW } from "./views.ts";
import { keyDecisionsByInputs, rekeyLogins } from "./sqlite_migration_steps.ts";
import { DatabaseSync } from "node:sqlite";

/** One step of the schema: SQL, or code for a step that needs the service's own functions. */
type Migration = string | ((db: DatabaseSync) => void);

/** Each entry moves the schema one version up; never edit a released entry, append a new one. */
const MIGRATIONS: readonly Migration[] = [
  // 1: login index, suffix counters, audit.
  `
  CREATE TABLE logins (
    login_key     TEXT PRIMARY KEY,  -- the login folded: lower-case, no diacritics
    login         TEXT NOT NULL,     -- the login as assigned or seen
    owner         TEXT,              -- who holds it: an app user, an Okta user, or NULL (seeded)
    requested_key TEXT,              -- the folded login the owner asked for
    strategy      TEXT NOT NULL,     -- how it was chosen: unchanged, middle_name, seed, ...
    source        TEXT NOT NULL,     -- hook, seed, okta_conflict, link
    event_id      TEXT,              -- the decision that reserved it
    created_at    TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX logins_by_owner ON logins (owner, requested_key) WHERE owner IS NOT NULL;

  CREATE TABLE suffix_counters (
    base_key    TEXT PRIMARY KEY,    -- folded login the numbers are appended to
    next_suffix INTEGER NOT NULL     -- lowest number that may still be free
  ) WITHOUT ROWID;

  CREATE TABLE decisions (
    event_id       TEXT PRIMARY KEY,
    received_at    TEXT NOT NULL,
    job_id         TEXT,
    app_id         TEXT,
    external_id    TEXT,
    owner          TEXT NOT NULL,
    action         TEXT,
    original_login TEXT COLLATE NOCASE,
    final_login    TEXT COLLATE NOCASE,
    outcome        TEXT NOT NULL
                   CHECK (outcome IN ('unchanged', 'resolved', 'unresolved', 'skipped')),
    strategy       TEXT,
    reused         INTEGER NOT NULL DEFAULT 0,
    reason         TEXT,
    status         INTEGER NOT NULL,
    response       TEXT,
    duration_ms    REAL NOT NULL
  );
  CREATE INDEX decisions_by_job ON decisions (job_id, received_at);
  CREATE INDEX decisions_by_original_login ON decisions (original_login);
  CREATE INDEX decisions_by_final_login ON decisions (final_login);
  CREATE INDEX decisions_by_time ON decisions (received_at);

  CREATE TABLE rejections (
    id          INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    status      INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    remote_addr TEXT,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    event_id    TEXT
  );
  CREATE INDEX rejections_by_time ON rejections (received_at);
  `,
  // 2: what the Okta sync knows of a login: the Okta user holding it and when a sync last saw it.
  `
  ALTER TABLE logins ADD COLUMN okta_user_id TEXT;
  ALTER TABLE logins ADD COLUMN seen_at TEXT;
  CREATE INDEX logins_by_source ON logins (source, seen_at);
  `,
  // 3: views for admins who query the audit with sqlite3 (no tables change).
  `
  CREATE VIEW job_summary AS
  SELECT job_id,
         group_concat(DISTINCT app_id)                               AS app_ids,
         min(received_at)                                            AS first_at,
         max(received_at)                                            AS last_at,
         count(*)                                                    AS decisions,
         count(*) FILTER (WHERE outcome = 'unchanged')               AS unchanged,
         count(*) FILTER (WHERE outcome = 'resolved')                AS resolved,
         count(*) FILTER (WHERE outcome = 'unresolved')              AS unresolved,
         count(*) FILTER (WHERE outcome = 'skipped')                 AS skipped,
         count(*) FILTER (WHERE strategy = 'middle_name')            AS middle_name,
         count(*) FILTER (WHERE strategy = 'middle_initial')         AS middle_initial,
         count(*) FILTER (WHERE strategy = 'numeric_suffix')         AS numeric_suffix,
         count(*) FILTER (WHERE reused = 1)                          AS reused,
         round(avg(duration_ms), 3)                                  AS avg_ms,
         max(duration_ms)                                            AS max_ms
  FROM decisions
  GROUP BY job_id;

${LOGIN_CHANGES_VIEW}

  CREATE VIEW rejections_by_day AS
  SELECT substr(received_at, 1, 10) AS day, status, count(*) AS rejections,
         min(received_at) AS first_at, max(received_at) AS last_at, max(reason) AS example_reason
  FROM rejections
  GROUP BY day, status;
  `,
  // 4: fewer B-trees per decision. The two login indexes of decisions had random keys, so every
  // decision dirtied two more pages (a third of its database time); admins' login lookups now
  // scan, about 0.2 s per million decisions, as `audit list --login` always did. The source index
  // of logins keeps only the sync's rows, the only ones read through it (sync --prune).
  `
  DROP INDEX decisions_by_original_login;
  DROP INDEX decisions_by_final_login;
  DROP INDEX logins_by_source;
  CREATE INDEX logins_seen_by_sync ON logins (seen_at) WHERE source = 'sync';
  `,
  // 5: refusals of unauthenticated requests are recorded in aggregate: one row stands for
  // `count` refusals of one reason from one address in one minute, the last at `last_at`.
  `
  ALTER TABLE rejections ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE rejections ADD COLUMN last_at TEXT;
  DROP VIEW rejections_by_day;
  CREATE VIEW rejections_by_day AS
  SELECT substr(received_at, 1, 10) AS day, status, sum(count) AS rejections,
         min(received_at) AS first_at, max(coalesce(last_at, received_at)) AS last_at,
         max(reason) AS example_reason
  FROM rejections
  GROUP BY day, status;
  `,
  // 6: where each decision's owner came from (attribute, app_user_id, event): a decision owned
  // by its event cannot be recognised by a later import, and admins are told.
  `
  ALTER TABLE decisions ADD COLUMN owner_source TEXT;
  `,
  // 7: the login key became at least as strict as Okta (ø, ł, ß, ligatures and full-width forms
  // count as their ASCII spelling), so every key is computed afresh.
  rekeyLogins,
  // 8: the Okta status of a synced login's holder, and that status recorded on the decisions
  // whose login conflicted with it (a DEPROVISIONED holder is often the same person returning);
  // releases of hook reservations Okta never confirmed, with why.
  `
  ALTER TABLE logins ADD COLUMN okta_status TEXT;
  ALTER TABLE decisions ADD COLUMN holder_status TEXT;
  ALTER TABLE decisions ADD COLUMN holder_okta_user_id TEXT;
  CREATE TABLE releases (
    id          INTEGER PRIMARY KEY,
    released_at TEXT NOT NULL,
    login       TEXT NOT NULL,
    owner       TEXT,
    event_id    TEXT,     -- the decision that had reserved it
    reserved_at TEXT NOT NULL,
    reason      TEXT NOT NULL
  );
  CREATE INDEX releases_by_time ON releases (released_at);
  `,
  // 9: which owner attribute held the owner's id, and each decision's fingerprint (a digest of
  // what the rule read): one eventId may hold several decisions, one per inputs, so the key
  // becomes (event_id, fingerprint). Decisions from before keep '' and match any inputs. Who a
  // login's holder is (`person`, PERSON_ATTRIBUTE), and each decision's judgement of it, with the
  // new outcome `linked` (a returning person linked to their own account).
  keyDecisionsByInputs,
  // 10: a decision that needed a person (unresolved, or judged by PERSON_ATTRIBUTE, or held by a
  // deactivated account) can be marked handled by `audit resolve`: who, when and why are kept on
  // the row, which stays.
  `
  ALTER TABLE decisions ADD COLUMN handled_at TEXT;
  ALTER TABLE decisions ADD COLUMN handled_by TEXT;
  ALTER TABLE decisions ADD COLUMN handled_note TEXT;
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Options for {@link openDatabase}. */
export interface OpenOptions {
  /** How long to wait for another process's write lock before failing, in milliseconds. */
  readonly busyTimeoutMs?: number;
  /**
   * `FULL` (the default: every COMMIT fsyncs the WAL), or `NORMAL` for a caller that fsyncs the
   * WAL itself after each COMMIT before relying on it (the decision worker: docs/architecture.md).
   */
  readonly synchronous?: "FULL" | "NORMAL";
  /**
   * Keeps savepoint journals in memory (`temp_store = MEMORY`), for a connection that takes a
   * savepoint per decision. Past 64 KiB (a page split that rebalances many pages) SQLite moves a
   * statement journal to a temporary file, and every later savepoint of that transaction writes
   * its pages there: the writes of a decision then cost twice as much. Not for connections that
   * sort large results, whose temporary tables would then be held in memory too.
   */
  readonly journalsInMemory?: boolean;
  /** Migrates only up to this version: tests make a file as an older release left it. */
  readonly schemaVersion?: number;
}

/**
 * Opens (creating if needed) the database at `path` in WAL mode with `synchronous=FULL`, so a
 * committed decision survives power loss, and migrates it to {@link SCHEMA_VERSION}.
 */
export function openDatabase(path: string, options: OpenOptions = {}): DatabaseSync {
  createPrivately(path);
  const db = new DatabaseSync(path);
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${options.synchronous ?? "FULL"}`);
    if (options.journalsInMemory) db.exec("PRAGMA temp_store = MEMORY");
    migrate(db, options.schemaVersion ?? SCHEMA_VERSION);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The part of a connection a transaction drives. */
export type TransactionalDb = Pick<DatabaseSync, "exec" | "isTransaction">;

/**
 * Runs `work` inside one transaction (`BEGIN IMMEDIATE` by default: the write lock is taken at
 * once, so two writers never deadlock on upgrade): COMMIT when it returns (or its promise
 * resolves), ROLLBACK when it throws or COMMIT fails. The one place this code begins a transaction.
 */
export function inTransaction<T>(
  db: TransactionalDb,
  work: () => T,
  mode: "IMMEDIATE" | "DEFERRED" = "IMMEDIATE",
): T {
  db.exec(`BEGIN ${mode}`);
  const rollback = (error: unknown): never => {
    try {
      if (db.isTransaction) db.exec("ROLLBACK");
    } catch { /* a connection that cannot roll back has rolled back by itself */ }
    throw error;
  };
  const commit = <V>(value: V): V => {
    try {
      db.exec("COMMIT");
    } catch (error) {
      rollback(error);
    }
    return value;
  };
  let result: T;
  try {
    result = work();
  } catch (error) {
    return rollback(error);
  }
  if (result instanceof Promise) return result.then(commit, rollback) as T;
  return commit(result);
}

/**
 * Creates the database file readable and writable by its owner only (it holds logins: personal
 * data), whatever the umask. SQLite gives the `-wal` and `-shm` files the database file's mode.
 * An existing file is left as it is.
 */
function createPrivately(path: string): void {
  if (path === ":memory:") return;
  try {
    Deno.openSync(path, { write: true, createNew: true, mode: 0o600 }).close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
}

/** Bytes kept in reserve beside the database, for `audit prune` to free on a full disk. */
export const RESERVE_BYTES = 4 * 1024 * 1024;

/** The reserve file of the database at `dbPath`. */
export function reservePath(dbPath: string): string {
  return `${dbPath}-reserve`;
}

/**
 * Makes sure the reserve file exists, best effort: a full disk leaves no room for a database to
 * delete rows in (even a DELETE writes to the WAL), so this much is set aside while there is room.
 * Returns whether it is there.
 */
export function ensureReserve(dbPath: string): boolean {
  if (dbPath === ":memory:") return false;
  const path = reservePath(dbPath);
  try {
    Deno.statSync(path);
    return true;
  } catch { /* missing: make it */ }
  try {
    Deno.writeFileSync(path, new Uint8Array(RESERVE_BYTES), { mode: 0o600, createNew: true });
    return true;
  } catch {
    try {
      Deno.removeSync(path); // a partial reserve on a disk that filled meanwhile
    } catch { /* none was made */ }
    return false;
  }
}

/** Deletes the reserve file, giving its space to the database; returns whether there was one. */
export function releaseReserve(dbPath: string): boolean {
  try {
    Deno.removeSync(reservePath(dbPath));
    return true;
  } catch {
    return false;
  }
}

/**
 * Moves the WAL into the database and truncates it to nothing, best effort: the space the WAL
 * held is free again. After a failed commit (a full disk, most often) and between the batches of
 * `audit prune`, so both can recover on a full disk.
 */
export function truncateWal(db: TransactionalDb): void {
  try {
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch { /* not now (busy, or no room to grow the database): a later call tries again */ }
}

/** Applies pending migrations up to `target` in one write transaction, safe when processes race. */
function migrate(db: DatabaseSync, target: number): void {
  inTransaction(db, () => {
    const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
    if (row.user_version > SCHEMA_VERSION) {
      throw new RangeError(
        `Cannot use the database: its schema version ${row.user_version} is newer than this service's ${SCHEMA_VERSION}`,
      );
    }
    if (row.user_version >= target) return; // nothing written: opens on a full disk
    for (let version = row.user_version; version < target; version++) {
      const step = MIGRATIONS[version]!;
      if (typeof step === "string") db.exec(step);
      else step(db);
    }
    db.exec(`PRAGMA user_version = ${target}`);
  });
}
