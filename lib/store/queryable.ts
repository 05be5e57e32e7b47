/**
 * One way for the admin commands to query either engine: SQL with `?` placeholders, run on the
 * SQLite file or on PostgreSQL (where `?` becomes `$1`, `$2`, ...). The SQL must be what both
 * understand: counts are `CAST(... AS INTEGER)`, since PostgreSQL counts in bigint.
 */

import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type postgres from "postgres";
import { connectPostgres, migratePostgres } from "./postgres.ts";
import { inTransaction, truncateWal } from "./database.ts";

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
  const q: Queryable = {
    engine: "sqlite",
    all: (sql, params = []) =>
      Promise.resolve(
        db.prepare(sql).all(...params as SQLInputValue[]).map((row) => ({ ...row })),
      ),
    get: (sql, params = []) => {
      const row = db.prepare(sql).get(...params as SQLInputValue[]);
      return Promise.resolve(row === undefined ? undefined : { ...row });
    },
    run: (sql, params = []) =>
      Promise.resolve(Number(db.prepare(sql).run(...params as SQLInputValue[]).changes)),
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
): Promise<{ readonly q: Queryable; close(): Promise<void> }> {
  const sql = connectPostgres(url, { max: 2, statementTimeoutMs: 60_000 });
  try {
    await migratePostgres(sql);
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw error;
  }
  return { q: pgQueryable(sql), close: () => sql.end({ timeout: 2 }) };
}

/** `?` placeholders as PostgreSQL's `$n` (the SQL given here has no `?` inside literals). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}
