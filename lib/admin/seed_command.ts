/**
 * `deno task seed FILE.csv`: argument parsing and reporting around {@link seedLogins}.
 */

import { readPersonAttribute } from "../identity_settings.ts";
import { createReadStream } from "node:fs";
import { parseArgs } from "node:util";
import { DATA_DIR, redactedUrl } from "../config.ts";
import { messageOf } from "../log.ts";
import {
  type CommandIo,
  databaseUrlOf,
  dbPathOf,
  EXIT_USAGE,
  inputProblem,
  PROCESS_IO,
  usageError,
} from "./cli.ts";
import { SeedFormatError, seedLogins } from "./seed_logins.ts";
import { type OpenedQueryable, openQueryable } from "../store/queryable.ts";
import { COMMANDS } from "../commands.ts";

const USAGE = `Usage: deno task seed FILE.csv [--column NAME]

Loads existing Okta logins into the login index. The file needs a header row with a column named
exactly "login", or "Username" as in Okta's user export, or the one --column names; anything else
is refused with the columns seen (an import file's "userName" is not a list of Okta's logins).
Columns "id" and "status" (Okta's user export) give each holder's Okta user id and status, and
with PERSON_ATTRIBUTE set, a column of that name their person value; other columns are ignored.
Values that are not email-shaped are loaded with a warning; empty logins and rows the CSV reader
cannot read are counted and listed. Safe to run again.

Options:
  --column NAME   the login column's exact name

Environment: DB_PATH (default ${DATA_DIR}/import-hook.db), or DATABASE_URL for PostgreSQL;
PERSON_ATTRIBUTE
Exit codes: 0 done (bad rows included), 1 unreadable file or no login column, 2 bad arguments.`;

/** The seed's environment, read by name. */
export interface SeedEnv {
  readonly DB_PATH?: string;
  readonly DATABASE_URL?: string;
  readonly PERSON_ATTRIBUTE?: string;
}

/** Most bad rows listed one by one; the rest are counted. */
const BAD_ROWS_SHOWN = 20;

/** Runs the seed command; resolves to the exit code (2: bad arguments, 1: failure). */
export async function runSeed(
  args: string[],
  env: SeedEnv,
  io: CommandIo = PROCESS_IO,
): Promise<number> {
  const { out, err } = io;
  let file: string;
  let column: string | null;
  try {
    const { values, positionals } = parseArgs({
      args,
      options: COMMANDS.seed!.options,
      allowPositionals: true,
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new TypeError("Expected exactly one CSV file");
    file = positionals[0]!;
    column = typeof values.column === "string" ? values.column.trim() : null;
    if (column === "") throw new TypeError("--column needs a column name");
  } catch (error) {
    err(usageError(error));
    return EXIT_USAGE;
  }

  let personAttribute: string | null;
  try {
    personAttribute = readPersonAttribute(env);
  } catch (error) {
    err(messageOf(error));
    return 1;
  }
  const target = { dbPath: dbPathOf(env), databaseUrl: databaseUrlOf(env) };
  const where = target.databaseUrl === null ? target.dbPath : redactedUrl(target.databaseUrl);
  const problem = await inputProblem(file);
  if (problem !== null) {
    err(problem);
    return 1;
  }
  let opened: OpenedQueryable;
  try {
    opened = await openQueryable(target);
  } catch (error) {
    err(`Cannot seed from "${file}" into "${where}": ${messageOf(error)}`);
    return 1;
  }
  try {
    const started = performance.now();
    const report = await seedLogins(opened.seedSink, createReadStream(file), {
      at: io.now().toISOString(),
      onProgress: (rows) => err(`... ${rows} rows`),
      personAttribute,
      column,
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    out(
      `Seeded ${where} from ${file} (column "${report.column}") in ${seconds} s: ` +
        `${report.rows} rows, ${report.added} added, ${report.alreadyPresent} already present, ` +
        `${report.bad.length} bad`,
    );
    for (const row of report.bad.slice(0, BAD_ROWS_SHOWN)) out(`  line ${row.line}: ${row.reason}`);
    if (report.bad.length > BAD_ROWS_SHOWN) {
      out(`  ... and ${report.bad.length - BAD_ROWS_SHOWN} more bad rows`);
    }
    if (report.notEmail > 0) {
      err(
        `Warning: ${report.notEmail} of the logins in column "${report.column}" are not ` +
          "email-shaped, as Okta logins usually are: is this the column of Okta's logins?",
      );
      for (const row of report.notEmailShown) err(`  line ${row.line}: ${row.reason}`);
      if (report.notEmail > report.notEmailShown.length) {
        err(`  ... and ${report.notEmail - report.notEmailShown.length} more`);
      }
    }
    return 0;
  } catch (error) {
    const what = error instanceof SeedFormatError ? "" : "stopped: ";
    err(`Cannot seed from "${file}": ${what}${messageOf(error)}`);
    return 1;
  } finally {
    await opened.close();
  }
}
