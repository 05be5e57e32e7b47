/**
 * One way for the admin commands to query either engine: SQL with `?` placeholders, run on the
 * SQLite file or on PostgreSQL (where `?` becomes `$1`, `$2`, ...). The SQL must be what both
 * understand: counts are `CAST(... AS INTEGER)`, since PostgreSQL counts in bigint.
 */

import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type postgres from "postgres";
import { connectPostgres, migratePostgres } from "./postgres.ts";
import { inTransaction, openDatabase, truncateWal } from "./database.ts";
import { redactedUrl } from "../config.ts";

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
  /** Where it is, fit to print (no password). */
  readonly where: string;
  close(): Promise<void>;
}

/** Opens (creating and migrating, as the service does) the database a command works on. */
export async function openQueryable(
  target: { readonly dbPath: string; readonly databaseUrl: string | null },
): Promise<OpenedQueryable> {
  if (target.databaseUrl !== null) {
    const { q, close } = await openPgQueryable(target.databaseUrl);
    return { q, close, where: redactedUrl(target.databaseUrl) };
  }
  const db = openDatabase(target.dbPath);
  return {
    q: sqliteQueryable(db),
    where: target.dbPath,
    close: () => Promise.resolve(db.close()),
  };
}
