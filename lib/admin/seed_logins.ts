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
import { LoginIndex } from "../decision/login_index.ts";
import { inTransaction } from "../store/database.ts";

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
  options: { readonly at: string; readonly onProgress?: (rows: number) => void },
): Promise<SeedReport> {
  const index = new LoginIndex(db);
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
    // Each record becomes its trimmed login, or for an empty one minus its line number: one small
    // value per row instead of a record, an info and a wrapper object.
    on_record: (record: Record<string, string | undefined>, info: { lines: number }) =>
      record[column]?.trim() || -info.lines,
  }));
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
  const records = (parser as AsyncIterable<string | number>)[Symbol.asyncIterator]();
  // One transaction per batch: its rows are staged, then moved into the index in key order.
  const batch = async (): Promise<boolean> => {
    for (let staged = 0; staged < BATCH_ROWS;) {
      const next = await records.next();
      if (next.done) return false;
      rows++;
      const login = next.value;
      if (typeof login === "number") {
        bad.push({ line: -login, reason: `Empty ${column}` });
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
  if (column === "") throw new SeedFormatError("The file is empty: expected a header row");
  return { column, rows, added, alreadyPresent: rows - added - bad.length, bad };
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
