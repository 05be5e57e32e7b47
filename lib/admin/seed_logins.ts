/**
 * Seeding: loads existing Okta logins from a CSV file (Okta's user export, or any file with a
 * `login` or `Username` column) into the login index, so the service knows who holds what before
 * the first import. Running it twice adds nothing the second time.
 */

import { parse } from "csv-parse";
import type { Readable } from "node:stream";
import { crlfToLf } from "./csv.ts";
import { loginKey } from "../decision/fold_name.ts";
import type { SeedEntry, SeedSink } from "../store/seed_store.ts";

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

/**
 * Reads CSV from `input` and gives every login to `sink` in batches (held by no owner, strategy
 * `seed`). Quoted fields, a byte-order mark and CRLF line ends are handled by csv-parse.
 */
export async function seedLogins(
  sink: SeedSink,
  input: Readable,
  options: SeedOptions,
): Promise<SeedReport> {
  const read = readLogins(input);
  let rows = 0;
  let added = 0;
  const bad: BadRow[] = [];
  for (let more = true; more;) {
    const batch: SeedEntry[] = [];
    while (batch.length < BATCH_ROWS) {
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
      batch.push([loginKey(next.value), next.value]);
    }
    if (batch.length > 0) added += await sink.add(batch, options.at);
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
