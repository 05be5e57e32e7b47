/**
 * Seeding: loads existing Okta logins from a CSV file (Okta's user export, or any file with a
 * `login` or `Username` column) into the login index, so the service knows who holds what before
 * the first import. Running it twice adds nothing the second time.
 */

import { parse } from "csv-parse";
import type { DatabaseSync } from "node:sqlite";
import type { Readable } from "node:stream";
import { crlfToLf } from "./csv.ts";
import { loginKey } from "../decision/fold_name.ts";
import { LoginIndex } from "../store/sqlite_login_index.ts";
import { inTransaction } from "../store/database.ts";
import type postgres from "postgres";

/** Header names accepted for the login column, in order of preference (case-insensitive). */
export const LOGIN_COLUMNS = ["login", "username"] as const;

/** A row that could not be used. */
export interface BadRow {
  /** 1-based line in the file where the row ends. */
  readonly line: number;
  readonly reason: string;
}

/** What a seed run did. */
export interface SeedReport {
  readonly column: string;
  readonly rows: number;
  readonly added: number;
  readonly alreadyPresent: number;
  readonly bad: readonly BadRow[];
}

/** When the seeded rows are recorded as made, and where progress goes. */
export interface SeedOptions {
  readonly at: string;
  readonly onProgress?: (rows: number) => void;
}

/** The header was unusable; nothing was loaded. */
export class SeedFormatError extends Error {
  override name = "SeedFormatError";
}

/**
 * Rows inserted per transaction, sorted by login key: large enough that a batch fills the B-trees
 * from left to right with few page writes, small enough to hold the lock briefly (about 1 s).
 */
const BATCH_ROWS = 100_000;

const BATCH_TABLE = "seed_batch";

/**
 * Reads CSV from `input` and adds every login to the index of `db` (held by no owner, strategy
 * `seed`). Quoted fields, a byte-order mark and CRLF line ends are handled by csv-parse.
 */
export async function seedLogins(
  db: DatabaseSync,
  input: Readable,
  options: SeedOptions,
): Promise<SeedReport> {
  const index = new LoginIndex(db);
  const read = readLogins(input);
  let rows = 0;
  let added = 0;
  const bad: BadRow[] = [];
  // Each batch goes first into a temporary table, in file order (appending is cheap, and no
  // JS string outlives its row), then into the index sorted by key, so the B-trees are filled
  // from left to right. Of two rows with one key, the earlier in the file is kept, as before.
  db.exec(
    `CREATE TEMP TABLE IF NOT EXISTS ${BATCH_TABLE} (login_key TEXT NOT NULL, login TEXT NOT NULL)`,
  );
  const stage = db.prepare(`INSERT INTO ${BATCH_TABLE} (login_key, login) VALUES (?, ?)`);
  const clear = db.prepare(`DELETE FROM ${BATCH_TABLE}`);
  const records = read.records;
  // One transaction per batch: its rows are staged, then moved into the index in key order.
  const batch = async (): Promise<boolean> => {
    for (let staged = 0; staged < BATCH_ROWS;) {
      const next = await records.next();
      if (next.done) return false;
      rows++;
      const login = next.value;
      if (typeof login === "number") {
        bad.push({ line: -login, reason: `Empty ${read.column()}` });
        continue;
      }
      stage.run(loginKey(login), login);
      staged++;
    }
    return true;
  };
  try {
    for (let more = true; more;) {
      more = await inTransaction(db, async () => {
        const full = await batch();
        added += index.reserveSeededFrom(BATCH_TABLE, options.at);
        clear.run();
        return full;
      }, "DEFERRED");
      if (more) options.onProgress?.(rows);
    }
  } finally {
    db.exec(`DROP TABLE IF EXISTS temp.${BATCH_TABLE}`);
  }
  const column = read.column();
  if (column === "") throw new SeedFormatError("The file is empty: expected a header row");
  return { column, rows, added, alreadyPresent: rows - added - bad.length, bad };
}

/** {@link seedLogins} into PostgreSQL: one statement per batch, the batch sorted there. */
export async function seedLoginsPg(
  sql: postgres.Sql,
  input: Readable,
  options: SeedOptions,
): Promise<SeedReport> {
  const read = readLogins(input);
  let rows = 0;
  let added = 0;
  const bad: BadRow[] = [];
  for (let more = true; more;) {
    const keys: string[] = [];
    const logins: string[] = [];
    while (keys.length < BATCH_ROWS) {
      const next = await read.records.next();
      if (next.done) {
        more = false;
        break;
      }
      rows++;
      if (typeof next.value === "number") {
        bad.push({ line: -next.value, reason: `Empty ${read.column()}` });
        continue;
      }
      keys.push(loginKey(next.value));
      logins.push(next.value);
    }
    if (keys.length > 0) {
      // In key order, and of two rows with one key the earlier in the file, as on SQLite.
      const done = await sql`INSERT INTO logins
          (login_key, login, owner, requested_key, strategy, source, event_id, created_at)
        SELECT e->>0, e->>1, NULL, NULL, 'seed', 'seed', NULL, ${options.at}
        FROM jsonb_array_elements(${sql.json(keys.map((k, i) => [k, logins[i]!]))}::jsonb)
             WITH ORDINALITY AS t(e, n)
        ORDER BY (e->>0) COLLATE "C", n
        ON CONFLICT (login_key) DO NOTHING`;
      added += done.count;
    }
    if (more) options.onProgress?.(rows);
  }
  const column = read.column();
  if (column === "") throw new SeedFormatError("The file is empty: expected a header row");
  return { column, rows, added, alreadyPresent: rows - added - bad.length, bad };
}

/**
 * The CSV's logins, one per row: the trimmed login, or for an empty one minus its line number
 * (one small value per row instead of a record, an info and a wrapper object). `column()` names
 * the login column once the header is read ("" before).
 */
function readLogins(input: Readable): {
  readonly records: AsyncIterator<string | number>;
  column(): string;
} {
  let column = "";
  const parser = input.pipe(crlfToLf()).pipe(parse({
    bom: true,
    columns: (header: string[]) => {
      const names = header.map((name) => name.trim());
      column = loginColumn(names);
      return names;
    },
    relax_column_count: true,
    skip_empty_lines: true,
    on_record: (record: Record<string, string | undefined>, info: { lines: number }) =>
      record[column]?.trim() || -info.lines,
  }));
  return {
    records: (parser as AsyncIterable<string | number>)[Symbol.asyncIterator](),
    column: () => column,
  };
}

function loginColumn(header: string[]): string {
  for (const wanted of LOGIN_COLUMNS) {
    const found = header.find((name) => name.toLowerCase() === wanted);
    if (found !== undefined) return found;
  }
  throw new SeedFormatError(
    `The header has no login column: expected "login" or "Username", found ${
      header.map((name) => `"${name}"`).join(", ")
    }`,
  );
}
