/**
 * Seeding: loads existing Okta logins from a CSV file (Okta's user export, or any file with a
 * `login` or `Username` column) into the login index, so the service knows who holds what before
 * the first import. Running it twice adds nothing the second time.
 */

import { parse } from "csv-parse";
import type { Readable } from "node:stream";
import { crlfToLf } from "./csv.ts";
import { loginKey } from "../decision/fold_name.ts";
import type { SeedEntry, SeedHolder, SeedSink } from "../store/seed_store.ts";

/**
 * Header names taken as the login column, exactly: `login`, or `Username` as Okta's user export
 * has it. Nothing is guessed: the CSV Directory's own import file has a `userName` column, and
 * seeding from it would make every user of the import a collision.
 */
export const LOGIN_COLUMNS = ["login", "Username"] as const;

/** How many values that are not email-shaped are listed by line; the rest are counted. */
export const ODD_LOGINS_SHOWN = 5;

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
  /** Rows not loaded: an empty login, or a row the CSV reader could not read. */
  readonly bad: readonly BadRow[];
  /** Loaded values that are not email-shaped, as Okta logins usually are: how many. */
  readonly notEmail: number;
  /** The first {@link ODD_LOGINS_SHOWN} of them, by line. */
  readonly notEmailShown: readonly BadRow[];
}

/** When the seeded rows are recorded as made, and where progress goes. */
export interface SeedOptions {
  readonly at: string;
  readonly onProgress?: (rows: number) => void;
  /**
   * `PERSON_ATTRIBUTE`: a column of that name gives each holder's person value. Columns `id` and
   * `status` (as in Okta's user export) give the holder's Okta user id and status.
   */
  readonly personAttribute?: string | null;
  /** The login column's exact name (`--column`), instead of {@link LOGIN_COLUMNS}. */
  readonly column?: string | null;
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
  const bad: BadRow[] = [];
  // A row the CSV reader cannot read (a broken quote) is listed, and the rest still load.
  let notEmail = 0;
  const notEmailShown: BadRow[] = [];
  const read = readLogins(input, options.personAttribute ?? null, options.column ?? null, {
    broken: (row) => bad.push(row),
    notEmail: (line, login) => {
      if (notEmail++ < ODD_LOGINS_SHOWN) {
        notEmailShown.push({ line, reason: JSON.stringify(login) });
      }
    },
  });
  let rows = 0;
  let added = 0;
  let empty = 0;
  for (let more = true; more;) {
    const batch: SeedEntry[] = [];
    while (batch.length < BATCH_ROWS) {
      const next = await read.records.next();
      if (next.done) {
        more = false;
        break;
      }
      rows++;
      const value = next.value;
      if (typeof value === "number") {
        bad.push({ line: -value, reason: `Empty ${read.column()}` });
        empty++;
        continue;
      }
      if (typeof value === "string") batch.push([loginKey(value), value]);
      else batch.push([loginKey(value.login), value.login, value]);
    }
    if (batch.length > 0) added += await sink.add(batch, options.at);
    if (more) options.onProgress?.(rows);
  }
  const column = read.column();
  if (column === "") throw new SeedFormatError("The file is empty: expected a header row");
  // `rows` counted what the reader gave: every row but the broken ones, which are only in `bad`.
  const broken = bad.length - empty;
  bad.sort((a, b) => a.line - b.line);
  const alreadyPresent = rows - empty - added;
  return { column, rows: rows + broken, added, alreadyPresent, bad, notEmail, notEmailShown };
}

/** Something@something.something, with no spaces: the shape of an Okta login by default. */
const EMAIL_SHAPED = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * The CSV's logins, one per row: the trimmed login, or for an empty one minus its line number
 * (one small value per row instead of a record, an info and a wrapper object). `column()` names
 * the login column once the header is read ("" before).
 */
function readLogins(
  input: Readable,
  personAttribute: string | null,
  given: string | null,
  report: {
    broken(row: BadRow): void;
    notEmail(line: number, login: string): void;
  },
): {
  readonly records: AsyncIterator<string | number | SeedRow>;
  column(): string;
} {
  let column = "";
  let extra: { id?: string; status?: string; person?: string } = {};
  const parser = input.pipe(crlfToLf()).pipe(parse({
    bom: true,
    columns: (header: string[]) => {
      const names = header.map((name) => name.trim());
      column = loginColumn(names, given);
      const named = (wanted: string) => names.find((name) => name.toLowerCase() === wanted);
      extra = {
        ...optionalColumn("id", named("id")),
        ...optionalColumn("status", named("status")),
        ...optionalColumn(
          "person",
          personAttribute === null ? undefined : named(personAttribute.toLowerCase()),
        ),
      };
      return names;
    },
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_record: (record: Record<string, string | undefined>, info: { lines: number }) => {
      const login = record[column]?.trim();
      if (!login) return -info.lines;
      // Here, not where the rows are consumed: the parser reads ahead of its reader.
      if (!EMAIL_SHAPED.test(login)) report.notEmail(info.lines, login);
      // One string per row unless the file says more: the common case stays small.
      if (extra.id === undefined && extra.status === undefined && extra.person === undefined) {
        return login;
      }
      const cell = (name: string | undefined) =>
        name === undefined ? null : record[name]?.trim() || null;
      return {
        login,
        oktaUserId: cell(extra.id),
        status: cell(extra.status),
        person: cell(extra.person),
      } satisfies SeedRow;
    },
  }));
  parser.on("skip", (error: Error & { lines: number }) => {
    report.broken({ line: error.lines, reason: error.message });
  });
  return {
    records: (parser as AsyncIterable<string | number | SeedRow>)[Symbol.asyncIterator](),
    column: () => column,
  };
}

/** A row of a file that says more than the login: its holder, as Okta's export has it. */
interface SeedRow extends SeedHolder {
  readonly login: string;
}

function optionalColumn(key: string, name: string | undefined): Record<string, string> {
  return name === undefined ? {} : { [key]: name };
}

function loginColumn(header: string[], given: string | null): string {
  const wanted = given === null ? LOGIN_COLUMNS : [given];
  const found = wanted.find((name) => header.includes(name));
  if (found !== undefined) return found;
  const expected = given === null
    ? `"login" or "Username" (or name it with --column)`
    : `"${given}" (--column)`;
  throw new SeedFormatError(
    `The header has no login column: expected ${expected}, found ${
      header.map((name) => `"${name}"`).join(", ")
    }`,
  );
}
