/**
 * What the audit's subcommands share: its usage text, the context they run in, opening the
 * database, the option parsers and the output helpers.
 */

import { stringify } from "csv-stringify/sync";
import { type Outcome, OUTCOMES } from "../store/audit_queries.ts";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { AGE, errorMessage, EXIT_USAGE, parseAge, type Terminal, usageError } from "./cli.ts";
import { DATA_DIR } from "../config.ts";
import { AuditOpenError, openAudit, type Queryable } from "../store/queryable.ts";

/** The audit command's help. */
export const USAGE = `Usage: deno task audit <command> [options]

Reads the audit the hook keeps: one row per decision, one per refused request. All times are
UTC. summary and list only read the database; resolve and prune write.

Commands:
  summary [--job ID] [--limit N]        What each import job did: counts per outcome and
                                        strategy, first and last time (newest 10 jobs)
  list [--job ID] [--login TEXT] [--outcome X] [--since WHEN] [--limit N] [--open]
                                        Decisions, newest first (50 unless --limit, all for
                                        csv/json); --login matches part of either login;
                                        --open: only those that need a person, not handled
  resolve EVENT_ID --note TEXT [--by NAME]
                                        Marks a decision that needs a person (unresolved, a
                                        wrong link, a person returning) handled: who, when and
                                        the note are kept on the row; summary stops counting it
  prune --older-than AGE [--dry-run]    Removes decisions and rejections older than AGE (90d,
                                        36h); logins stay reserved

Options:
  --format table|csv|json   Output format of summary and list (default table)
  -h, --help                Show this help (also after a command)

WHEN is a date (2026-03-01), a date-time (2026-03-01T22:00:00Z; UTC unless it names an
offset) or an age (24h, 7d). X is unchanged, resolved, unresolved, skipped or linked.
Environment: DB_PATH (default ${DATA_DIR}/import-hook.db), or DATABASE_URL for PostgreSQL;
resolve's --by defaults to SUDO_USER, else USER
Exit codes: 0 done, 1 failure (resolve: nothing to mark), 2 bad arguments.`;

/** An output format of summary and list. */
export type Format = "table" | "csv" | "json";

/** What a subcommand runs with. */
export interface Context {
  readonly dbPath: string;
  /** PostgreSQL instead of the SQLite file, or `null`. */
  readonly databaseUrl: string | null;
  readonly terminal: Terminal;
  readonly now: () => Date;
  /** Who runs the command, as `audit resolve` records it. */
  readonly user: string;
}

/** The values parseArgs gives for `options` (with `help`). */
type Values<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & { help: { type: "boolean"; short: "h" } } }>
>["values"];

/**
 * A subcommand's options: `args` parsed with `options` and `-h/--help`, then `read` into what the
 * subcommand needs. Returns that, or an exit code: 0 after printing the help, 2 after one line
 * saying what is wrong with an argument.
 */
export function subcommandOptions<O extends ParseArgsOptionsConfig, T>(
  args: string[],
  options: O,
  ctx: Context,
  read: (values: Values<O>) => T,
): T | number {
  try {
    const { values } = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } as const },
    });
    if ((values as { help?: boolean }).help) {
      ctx.terminal.out(USAGE);
      return 0;
    }
    return read(values as Values<O>);
  } catch (error) {
    ctx.terminal.err(usageError(error));
    return EXIT_USAGE;
  }
}

/**
 * Opens the audit: the existing SQLite file (read-only unless writing), or PostgreSQL with
 * `DATABASE_URL`; runs `use`, closes it. A failure is one line on the terminal and exit 1.
 */
export async function withDatabase(
  ctx: Context,
  mode: "read" | "write",
  use: (db: Queryable) => Promise<number>,
): Promise<number> {
  let opened;
  try {
    opened = await openAudit({ dbPath: ctx.dbPath, databaseUrl: ctx.databaseUrl }, mode);
  } catch (error) {
    ctx.terminal.err(
      error instanceof AuditOpenError
        ? `Cannot ${error.stage} ${error.where}: ${error.reason ?? errorMessage(error.cause)}`
        : `Cannot open: ${errorMessage(error)}`,
    );
    return 1;
  }
  try {
    return await use(opened.q);
  } catch (error) {
    ctx.terminal.err(`Cannot read ${opened.where}: ${errorMessage(error)}`);
    return 1;
  } finally {
    await opened.close();
  }
}

/** Rows as CSV with a header, or as a JSON array with one object per line. */
export function exportRows(rows: readonly object[], chosen: "csv" | "json"): string {
  if (chosen === "json") {
    return rows.length === 0
      ? "[]"
      : `[\n${rows.map((r) => `  ${JSON.stringify(r)}`).join(",\n")}\n]`;
  }
  if (rows.length === 0) return "";
  return stringify(rows as Record<string, unknown>[], { header: true }).replace(/\n$/, "");
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * `--since` as the ISO timestamp stored times compare with: a date (midnight UTC), a date-time
 * (UTC unless it names an offset) or an age counted back from `now`.
 */
export function parseSince(text: string, now: Date): string {
  const value = text.trim();
  if (AGE.test(value)) return new Date(now.getTime() - parseAge(value, "--since")).toISOString();
  let date: Date | undefined;
  if (DATE.test(value)) date = new Date(`${value}T00:00:00Z`);
  else if (DATE_TIME.test(value)) {
    const iso = value.replace(" ", "T");
    date = new Date(/(Z|[+-]\d{2}:?\d{2})$/i.test(iso) ? iso : `${iso}Z`);
  }
  if (date === undefined || Number.isNaN(date.getTime()) || !sameDay(value, date)) {
    throw new TypeError(
      `Option --since must be a date, a date-time or an age (2026-03-01, 2026-03-01T22:00:00Z, 24h), got "${text}"`,
    );
  }
  return date.toISOString();
}

/** Rejects dates JavaScript rolls over, such as 2026-02-30. */
function sameDay(text: string, date: Date): boolean {
  if (!DATE.test(text)) return true;
  return date.toISOString().slice(0, 10) === text;
}

/** `--format`. */
export function format(text: string): Format {
  if (text === "table" || text === "csv" || text === "json") return text;
  throw new TypeError(`Option --format must be table, csv or json, got "${text}"`);
}

/** `--outcome`. */
export function outcome(text: string | undefined): Outcome | undefined {
  if (text === undefined) return undefined;
  if ((OUTCOMES as readonly string[]).includes(text)) return text as Outcome;
  throw new TypeError(`Option --outcome must be one of ${OUTCOMES.join(", ")}, got "${text}"`);
}

/** A whole number above 0, or a TypeError naming `option`. */
export function positiveInteger(text: string, option: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) === 0) {
    throw new TypeError(`Option ${option} must be a whole number above 0, got "${text}"`);
  }
  return Number(text);
}

/** Trimmed text, or a TypeError naming `option` when it is blank. */
export function nonEmpty(text: string | undefined, option: string): string | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === "") throw new TypeError(`Option ${option} must not be empty`);
  return text.trim();
}

/** "1 decision", "2 decisions". */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** A cell safe to print: control characters (a newline in a login) shown escaped. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
