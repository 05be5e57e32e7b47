/**
 * One way for the admin commands to query either engine: SQL with `?` placeholders, run on the
 * SQLite file or on PostgreSQL (where `?` becomes `$1`, `$2`, ...). The SQL must be what both
 * understand: counts are `CAST(... AS INTEGER)`, since PostgreSQL counts in bigint.
 */

import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type postgres from "postgres";
import { connectPostgres, migratePostgres } from "./postgres.ts";
import { inTransaction, openDatabase, truncateWal } from "./database.ts";
import { redactedUrl } from "../config.ts";
import { messageOf } from "../log.ts";
import { pgSeedSink, type SeedSink, sqliteSeedSink } from "./seed_store.ts";

/** A value bound to a placeholder. */
export type SqlValue = string | number | null;

/** A row as read. */
export type Row = Record<string, unknown>;

/** Either engine, asked in SQL both understand. */
export interface Queryable {
  readonly engine: "sqlite" | "postgres";
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  get(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  /** Runs a write; resolves to the rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs `work` in one transaction. */
  transaction<T>(work: (q: Queryable) => Promise<T>): Promise<T>;
  /** SQLite: checkpoint and truncate the WAL, best effort (so a full disk can delete). */
  readonly truncateWal?: () => void;
}

/** The SQLite file, on `db`. */
export function sqliteQueryable(db: DatabaseSync): Queryable {
  // Prepared once per text: a sync page runs the same two statements 200 times.
  const statements = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let statement = statements.get(sql);
    if (statement === undefined) statements.set(sql, statement = db.prepare(sql));
    return statement;
  };
  const q: Queryable = {
    engine: "sqlite",
    all: (sql, params = []) =>
      Promise.resolve(
        prepare(sql).all(...params as SQLInputValue[]).map((row) => ({ ...row })),
      ),
    get: (sql, params = []) => {
      const row = prepare(sql).get(...params as SQLInputValue[]);
      return Promise.resolve(row === undefined ? undefined : { ...row });
    },
    run: (sql, params = []) =>
      Promise.resolve(Number(prepare(sql).run(...params as SQLInputValue[]).changes)),
    transaction: (work) => inTransaction(db, () => work(q)),
    truncateWal: () => truncateWal(db),
  };
  return q;
}

/** PostgreSQL, on a pool or a transaction. */
export function pgQueryable(sql: postgres.Sql | postgres.TransactionSql): Queryable {
  const q: Queryable = {
    engine: "postgres",
    all: async (text, params = []) => [...await sql.unsafe(numbered(text), [...params])],
    get: async (text, params = []) => (await sql.unsafe(numbered(text), [...params]))[0],
    run: async (text, params = []) => (await sql.unsafe(numbered(text), [...params])).count,
    transaction: async (work) => {
      if (!("begin" in sql)) return await work(q);
      return await sql.begin((tx) => work(pgQueryable(tx))) as Awaited<ReturnType<typeof work>>;
    },
  };
  return q;
}

/** Opens PostgreSQL at `url` for an admin command (migrated, like the service does). */
export async function openPgQueryable(
  url: string,
): Promise<{ readonly q: Queryable; readonly sql: postgres.Sql; close(): Promise<void> }> {
  const sql = connectPostgres(url, { max: 2, statementTimeoutMs: 60_000 });
  try {
    await migratePostgres(sql);
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw error;
  }
  return { q: pgQueryable(sql), sql, close: () => sql.end({ timeout: 2 }) };
}

/** `?` placeholders as PostgreSQL's `$n` (the SQL given here has no `?` inside literals). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** A command's database: the SQLite file at `dbPath`, or PostgreSQL at `databaseUrl`. */
export interface OpenedQueryable {
  readonly q: Queryable;
  /** Where `seed` puts logins, on the same connection. */
  readonly seedSink: SeedSink;
  /** Where it is, fit to print (no password). */
  readonly where: string;
  close(): Promise<void>;
}

/** Opens (creating and migrating, as the service does) the database a command works on. */
export async function openQueryable(
  target: { readonly dbPath: string; readonly databaseUrl: string | null },
): Promise<OpenedQueryable> {
  if (target.databaseUrl !== null) {
    const { q, sql, close } = await openPgQueryable(target.databaseUrl);
    return { q, close, seedSink: pgSeedSink(sql), where: redactedUrl(target.databaseUrl) };
  }
  const db = openDatabase(target.dbPath);
  return {
    q: sqliteQueryable(db),
    seedSink: sqliteSeedSink(db),
    where: target.dbPath,
    close: () => Promise.resolve(db.close()),
  };
}

/**
 * The audit cannot be opened (`stage` open) or read (`stage` read: no audit tables, or a failed
 * query), at `where`; the cause is the runtime's error, or `reason` says why in words.
 */
export class AuditOpenError extends Error {
  override name = "AuditOpenError";
  readonly stage: "open" | "read";
  readonly where: string;
  readonly reason: string | null;

  constructor(stage: "open" | "read", where: string, reason: string | null, cause?: unknown) {
    super(`Cannot ${stage} ${where}: ${reason ?? messageOf(cause)}`, { cause });
    this.stage = stage;
    this.where = where;
    this.reason = reason;
  }
}

/**
 * Opens the audit as it is, creating nothing: the SQLite file (read-only unless `mode` is
 * `write`; it must exist and hold the audit tables), or PostgreSQL. Throws an
 * {@link AuditOpenError} saying what could not be opened and why.
 */
export async function openAudit(
  target: { readonly dbPath: string; readonly databaseUrl: string | null },
  mode: "read" | "write",
): Promise<OpenedQueryable> {
  if (target.databaseUrl !== null) {
    const where = redactedUrl(target.databaseUrl);
    try {
      const { q, sql, close } = await openPgQueryable(target.databaseUrl);
      return { q, close, where, seedSink: pgSeedSink(sql) };
    } catch (error) {
      throw new AuditOpenError("open", where, null, error);
    }
  }
  const path = target.dbPath;
  const where = `"${path}"`;
  let db: DatabaseSync;
  try {
    if (!Deno.statSync(path).isFile) throw new TypeError("not a file");
    if (mode === "write") db = openDatabase(path);
    else {
      db = new DatabaseSync(path, { readOnly: true });
      db.exec("PRAGMA busy_timeout = 5000");
    }
  } catch (error) {
    throw new AuditOpenError("open", where, null, error);
  }
  let tables: number;
  try {
    tables = (db.prepare(
      "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('decisions', 'rejections')",
    ).get() as { n: number }).n;
  } catch (error) {
    db.close();
    throw new AuditOpenError("read", where, null, error);
  }
  if (tables !== 2) {
    db.close();
    throw new AuditOpenError("read", where, "it holds no audit tables");
  }
  return {
    q: sqliteQueryable(db),
    where,
    seedSink: sqliteSeedSink(db),
    close: () => Promise.resolve(db.close()),
  };
}
