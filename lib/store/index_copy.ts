/**
 * A throw-away copy of the login index: a temporary SQLite file holding the live database's
 * `logins` and `suffix_counters`, for runs that must not touch the real thing (the preview).
 */

import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { inTransaction, openDatabase } from "./database.ts";
import { connectPostgres } from "./postgres.ts";
import { redactedUrl } from "../config.ts";

/** The copy, open; {@link IndexCopy.remove} closes and deletes it. */
export interface IndexCopy {
  readonly db: DatabaseSync;
  readonly path: string;
  /** Logins copied from the live index. */
  readonly logins: number;
  /** The distinct source app ids in the live audit, at most two (enough to tell "several"). */
  readonly appIds: readonly string[];
  remove(): Promise<void>;
}

/** The live database cannot be copied; the message says why. */
export class IndexCopyError extends Error {
  override name = "IndexCopyError";
}

// The columns the resolution reads; naming them keeps the copy working when the live file is at
// an older or newer schema version than this code.
const LOGIN_COLUMNS = "login_key, login, owner, requested_key, strategy, source, event_id, " +
  "created_at, okta_user_id, okta_status, person";

/**
 * Copies the index of the database at `livePath` into a new temporary file in `dir`. The live
 * file is opened read-only, so nothing here can write it, and both tables are read in one read
 * transaction, so the copy is one consistent snapshot even while the service writes. (SQLite's
 * ATTACH and VACUUM INTO would be shorter, but Deno disables them under scoped permissions.)
 */
export async function copyLoginIndex(
  livePath: string,
  options: { readonly dir: string },
): Promise<IndexCopy> {
  let live: DatabaseSync;
  try {
    const info = await Deno.stat(livePath);
    if (!info.isFile) throw new IndexCopyError(`Cannot read "${livePath}": not a file`);
    live = new DatabaseSync(livePath, { readOnly: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new IndexCopyError(
        `Cannot read "${livePath}": no such file (start the service or run "deno task seed" first)`,
      );
    }
    throw error;
  }
  try {
    live.exec("PRAGMA busy_timeout = 5000");
    return await intoNewCopy(options.dir, (db) => Promise.resolve(copyTables(live, db, livePath)));
  } finally {
    live.close();
  }
}

/**
 * Copies the index of the PostgreSQL database at `url` into a new temporary SQLite file in
 * `dir`, from one read-only snapshot (REPEATABLE READ), so the preview runs the very rule the
 * service runs, on the copy.
 */
export async function copyLoginIndexFromPostgres(
  url: string,
  options: { readonly dir: string },
): Promise<IndexCopy> {
  const sql = connectPostgres(url, { max: 1, statementTimeoutMs: 300_000 });
  try {
    return await intoNewCopy(
      options.dir,
      (db) =>
        sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => {
          const [found] = await tx`SELECT to_regclass('logins') IS NOT NULL AS logins,
          to_regclass('suffix_counters') IS NOT NULL AS counters,
          to_regclass('decisions') IS NOT NULL AS decisions`;
          if (!found?.logins || !found.counters) {
            throw new IndexCopyError(`Cannot read ${redactedUrl(url)}: it holds no login index`);
          }
          return await inTransaction(db, async () => {
            const insertLogin = db.prepare(
              `INSERT INTO logins (${LOGIN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            );
            let logins = 0;
            await tx.unsafe(`SELECT ${LOGIN_COLUMNS} FROM logins`).cursor(2000, (rows) => {
              for (const r of rows) {
                insertLogin.run(
                  r.login_key,
                  r.login,
                  r.owner,
                  r.requested_key,
                  r.strategy,
                  r.source,
                  r.event_id,
                  r.created_at,
                  r.okta_user_id,
                  r.okta_status,
                  r.person,
                );
                logins++;
              }
            });
            const insertCounter = db.prepare(
              "INSERT INTO suffix_counters (base_key, next_suffix) VALUES (?, ?)",
            );
            for (const r of await tx`SELECT base_key, next_suffix FROM suffix_counters`) {
              insertCounter.run(r.base_key, r.next_suffix);
            }
            const appIds = found.decisions
              ? (await tx`SELECT DISTINCT app_id AS id FROM decisions WHERE app_id IS NOT NULL LIMIT 2`)
                .map((r) => String(r.id))
              : [];
            return { logins, appIds };
          }, "DEFERRED");
        }),
    );
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/** A new scratch SQLite file in `dir`, filled by `fill`; removed again if filling fails. */
async function intoNewCopy(
  dir: string,
  fill: (db: DatabaseSync) => Promise<{ logins: number; appIds: string[] }>,
): Promise<IndexCopy> {
  let path: string | undefined;
  let db: DatabaseSync | undefined;
  try {
    await Deno.mkdir(dir, { recursive: true });
    path = await Deno.makeTempFile({ dir, prefix: "preview-", suffix: ".db" });
    db = openDatabase(path, { journalsInMemory: true });
    // A scratch file: no crash safety needed, and speed matters for large files.
    db.exec("PRAGMA journal_mode = MEMORY");
    db.exec("PRAGMA synchronous = OFF");
    db.exec("PRAGMA cache_size = -65536");
    const { logins, appIds } = await fill(db);
    const opened = db;
    const file = path;
    return {
      db: opened,
      path: file,
      logins,
      appIds,
      async remove() {
        if (opened.isOpen) opened.close();
        await removeDatabaseFiles(file);
      },
    };
  } catch (error) {
    if (db?.isOpen) db.close();
    if (path !== undefined) await removeDatabaseFiles(path);
    throw error;
  }
}

function copyTables(live: DatabaseSync, copy: DatabaseSync, livePath: string) {
  return inTransaction(
    live,
    () => inTransaction(copy, () => readInto(live, copy, livePath), "DEFERRED"),
    "DEFERRED",
  );
}

function readInto(live: DatabaseSync, copy: DatabaseSync, livePath: string) {
  {
    const tables = live.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('logins', 'suffix_counters', 'decisions')",
    ).all().map((row) => (row as { name: string }).name);
    if (!tables.includes("logins") || !tables.includes("suffix_counters")) {
      throw new IndexCopyError(`Cannot read "${livePath}": it holds no login index`);
    }
    const logins = copyLogins(live, copy);
    const insertCounter = copy.prepare(
      "INSERT INTO suffix_counters (base_key, next_suffix) VALUES (?, ?)",
    );
    for (const row of live.prepare("SELECT base_key, next_suffix FROM suffix_counters").iterate()) {
      const r = row as { base_key: string; next_suffix: number };
      insertCounter.run(r.base_key, r.next_suffix);
    }
    const appIds = tables.includes("decisions")
      ? live.prepare(
        "SELECT DISTINCT app_id AS id FROM decisions WHERE app_id IS NOT NULL LIMIT 2",
      ).all().map((row) => (row as { id: string }).id)
      : [];
    return { logins, appIds };
  }
}

/** Rows read per query, and rows written per INSERT, when the logins are copied. */
const READ_ROWS = 1000;
const WRITE_ROWS = 50;
const LOGIN_COLUMN_COUNT = LOGIN_COLUMNS.split(",").length;

/**
 * Copies every login, in key order: read a thousand at a time as arrays (a row object and an
 * iterator step per row cost more than the copy itself), written fifty to an INSERT. For 1M
 * logins about 4 s against 6 s row by row (docs/performance.md).
 */
function copyLogins(live: DatabaseSync, copy: DatabaseSync): number {
  const select = live.prepare(
    `SELECT ${LOGIN_COLUMNS} FROM logins WHERE login_key > ? ORDER BY login_key LIMIT ${READ_ROWS}`,
  );
  // In node:sqlite since Node 22.16; Deno's types do not name it yet.
  (select as unknown as { setReturnArrays(enabled: boolean): void }).setReturnArrays(true);
  const row = `(${Array(LOGIN_COLUMN_COUNT).fill("?").join(", ")})`;
  const insert = (rows: number) =>
    copy.prepare(
      `INSERT INTO logins (${LOGIN_COLUMNS}) VALUES ${Array(rows).fill(row).join(", ")}`,
    );
  const insertMany = insert(WRITE_ROWS);
  const insertOne = insert(1);
  let copied = 0;
  for (let after = "";;) {
    const rows = select.all(after) as unknown as SQLInputValue[][];
    if (rows.length === 0) return copied;
    let i = 0;
    for (; i + WRITE_ROWS <= rows.length; i += WRITE_ROWS) {
      insertMany.run(...rows.slice(i, i + WRITE_ROWS).flat());
    }
    for (; i < rows.length; i++) insertOne.run(...rows[i]!);
    copied += rows.length;
    after = String(rows.at(-1)![0]);
  }
}

async function removeDatabaseFiles(path: string): Promise<void> {
  for (const file of [path, `${path}-journal`, `${path}-wal`, `${path}-shm`]) {
    await Deno.remove(file).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
}
