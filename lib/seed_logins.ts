/**
 * Seeding: loads existing Okta logins from a CSV file (Okta's user export, or any file with a
 * `login` or `Username` column) into the login index, so the service knows who holds what before
 * the first import. Running it twice adds nothing the second time.
 */

import { parse } from "csv-parse";
import type { DatabaseSync } from "node:sqlite";
import type { Readable } from "node:stream";
import { LoginIndex } from "./login_index.ts";

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

/** Rows inserted per transaction: large enough to be fast, small enough to hold the lock briefly. */
const BATCH_ROWS = 10_000;

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
  const parser = input.pipe(parse({
    bom: true,
    columns: (header: string[]) => {
      const names = header.map((name) => name.trim());
      column = loginColumn(names);
      return names;
    },
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
  }));
  let rows = 0;
  let added = 0;
  const bad: BadRow[] = [];
  let inBatch = 0;
  db.exec("BEGIN IMMEDIATE");
  try {
    for await (const { record, info } of parser as AsyncIterable<Row>) {
      rows++;
      const login = record[column]?.trim() ?? "";
      if (login === "") {
        bad.push({ line: info.lines, reason: `Empty ${column}` });
        continue;
      }
      const reservation = {
        login,
        owner: null,
        requestedKey: null,
        strategy: "seed",
        source: "seed",
        eventId: null,
        at: options.at,
      };
      if (index.reserveIfFree(reservation)) added++;
      if (++inBatch === BATCH_ROWS) {
        db.exec("COMMIT");
        options.onProgress?.(rows);
        db.exec("BEGIN IMMEDIATE");
        inBatch = 0;
      }
    }
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
  if (column === "") throw new SeedFormatError("The file is empty: expected a header row");
  return { column, rows, added, alreadyPresent: rows - added - bad.length, bad };
}

interface Row {
  readonly record: Record<string, string | undefined>;
  readonly info: { readonly lines: number };
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
