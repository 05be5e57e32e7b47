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

const USAGE = `Usage: deno task seed FILE.csv

Loads existing Okta logins into the login index. The file needs a header row with a "login"
column, or "Username" as in Okta's user export. Columns "id" and "status" (Okta's user export)
give each holder's Okta user id and status, and with PERSON_ATTRIBUTE set, a column of that name
their person value; other columns are ignored. Safe to run again.

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
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new TypeError("Expected exactly one CSV file");
    file = positionals[0]!;
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
    return 0;
  } catch (error) {
    const what = error instanceof SeedFormatError ? "" : "stopped: ";
    err(`Cannot seed from "${file}": ${what}${messageOf(error)}`);
    return 1;
  } finally {
    await opened.close();
  }
}
