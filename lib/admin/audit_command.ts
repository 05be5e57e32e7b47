/**
 * `deno task audit summary|list|prune`: argument parsing and formatting around the audit queries.
 * `summary` and `list` open the database read-only; `prune` deletes old audit rows only.
 */

import { stringify } from "csv-stringify/sync";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import {
  countRejections,
  type DecisionRow,
  type InactiveHolderDecision,
  inactiveHolders,
  type JobSummary,
  listDecisions,
  type Outcome,
  OUTCOMES,
  ownerFallbacks,
  pruneAudit,
  releaseCounts,
  summarizeJobs,
} from "./audit_queries.ts";
import {
  AGE,
  type CommandIo,
  dbPathOf,
  errorMessage,
  EXIT_USAGE,
  parseAge,
  PROCESS_IO,
  type Terminal,
  usageError,
} from "./cli.ts";
import { DATA_DIR } from "../config.ts";
import { ensureReserve, openDatabase, releaseReserve } from "../store/database.ts";
import { openPgQueryable, type Queryable, sqliteQueryable } from "../store/queryable.ts";
import { redactedUrl } from "../config.ts";

/** The environment variables the audit command reads. */
export const AUDIT_VARIABLES = ["DB_PATH", "DATABASE_URL"] as const;

/** The audit's environment, read by name. */
export interface AuditEnv {
  readonly DB_PATH?: string;
  readonly DATABASE_URL?: string;
}

const USAGE = `Usage: deno task audit <command> [options]

Reads the audit the hook keeps: one row per decision, one per refused request. All times are
UTC. summary and list only read the database.

Commands:
  summary [--job ID] [--limit N]        What each import job did: counts per outcome and
                                        strategy, first and last time (newest 10 jobs)
  list [--job ID] [--login TEXT] [--outcome X] [--since WHEN] [--limit N]
                                        Decisions, newest first (50 unless --limit, all for
                                        csv/json); --login matches part of either login
  prune --older-than AGE [--dry-run]    Removes decisions and rejections older than AGE (90d,
                                        36h); logins stay reserved

Options:
  --format table|csv|json   Output format of summary and list (default table)
  -h, --help                Show this help (also after a command)

WHEN is a date (2026-03-01), a date-time (2026-03-01T22:00:00Z; UTC unless it names an
offset) or an age (24h, 7d). X is unchanged, resolved, unresolved or skipped.
Environment: DB_PATH (default ${DATA_DIR}/import-hook.db), or DATABASE_URL for PostgreSQL
Exit codes: 0 done, 1 failure, 2 bad arguments.`;

type Format = "table" | "csv" | "json";

interface Context {
  readonly dbPath: string;
  /** PostgreSQL instead of the SQLite file, or `null`. */
  readonly databaseUrl: string | null;
  readonly terminal: Terminal;
  readonly now: () => Date;
}

type Subcommand = (args: string[], ctx: Context) => number | Promise<number>;

const SUBCOMMANDS: Record<string, Subcommand> = {
  summary: runSummary,
  list: runList,
  prune: runPrune,
};

/** Runs the audit command; resolves to the exit code (2: bad arguments, 1: failure). */
export function runAudit(
  args: string[],
  env: AuditEnv,
  io: CommandIo = PROCESS_IO,
): Promise<number> {
  const terminal: Terminal = io;
  const [name, ...rest] = args;
  if (name === "--help" || name === "-h") {
    terminal.out(USAGE);
    return Promise.resolve(0);
  }
  const names = Object.keys(SUBCOMMANDS).join(", ");
  const subcommand = name === undefined ? undefined : SUBCOMMANDS[name];
  if (subcommand === undefined) {
    terminal.err(
      name === undefined
        ? `Expected a command: ${names} (see --help)`
        : `Unknown audit command "${name}": use ${names} (see --help)`,
    );
    return Promise.resolve(EXIT_USAGE);
  }
  const ctx: Context = {
    dbPath: dbPathOf(env),
    databaseUrl: env.DATABASE_URL?.trim() ? env.DATABASE_URL.trim() : null,
    terminal,
    now: io.now,
  };
  return Promise.resolve(subcommand(rest, ctx));
}

// --- summary ---------------------------------------------------------------------------------

function runSummary(args: string[], ctx: Context): number | Promise<number> {
  let options;
  try {
    const { values } = parseArgs({
      args,
      options: {
        job: { type: "string" },
        limit: { type: "string", default: "10" },
        format: { type: "string", default: "table" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      ctx.terminal.out(USAGE);
      return 0;
    }
    options = {
      jobId: nonEmpty(values.job, "--job"),
      limit: positiveInteger(values.limit, "--limit"),
      format: format(values.format),
    };
  } catch (error) {
    ctx.terminal.err(usageError(error));
    return EXIT_USAGE;
  }
  return withDatabase(ctx, "read", async (db) => {
    const jobs = await summarizeJobs(db, { jobId: options.jobId, limit: options.limit });
    if (options.format !== "table") {
      ctx.terminal.out(exportRows(jobs, options.format));
      return 0;
    }
    const rejections = options.jobId === undefined ? await countRejections(db) : [];
    if (options.jobId === undefined) {
      const fallbacks = await ownerFallbacks(db);
      if (fallbacks.event > 0) {
        ctx.terminal.out(
          `Warning: ${plural(fallbacks.event, "decision")} had no OWNER_ATTRIBUTE value and no ` +
            "app user id: a later import cannot recognise those people and may give them other " +
            "logins. Set OWNER_ATTRIBUTE to the app's unique id attribute (e.g. employeeId).",
        );
      }
    }
    const attention = options.jobId === undefined
      ? { inactive: await inactiveHolders(db, INACTIVE_SHOWN), releases: await releaseCounts(db) }
      : undefined;
    for (const line of summaryText(jobs, rejections, options.jobId, attention)) {
      ctx.terminal.out(line);
    }
    return 0;
  });
}

/**
 * The summary as lines: what needs a person first (refused requests: a wrong secret switches the
 * hook off for a whole import; unresolved decisions), then one block per job.
 */
export function summaryText(
  jobs: readonly JobSummary[],
  rejections: readonly { status: number; rejections: number; last_at: string }[],
  jobId?: string,
  attention?: Attention,
): string[] {
  const lines: string[] = [];
  if (jobId === undefined) {
    const total = rejections.reduce((sum, r) => sum + r.rejections, 0);
    if (total === 0) lines.push("Refused requests: none");
    else {
      const last = rejections.map((r) => r.last_at).sort().at(-1);
      const each = rejections.map((r) => `${r.rejections} with ${r.status}`).join(", ");
      lines.push(`Refused requests: ${total} (${each}), last ${last}`);
      if (rejections.some((r) => r.status === 401 || r.status === 403)) {
        lines.push(
          "  Refused for their credentials: if these came from Okta, its hook secret or header " +
            "does not match HOOK_AUTH_SECRET / HOOK_AUTH_HEADER, and Okta imported those users " +
            "without de-duplication",
        );
      }
    }
    const unresolved = jobs.reduce((sum, job) => sum + job.unresolved, 0);
    if (unresolved > 0) {
      lines.push(
        `Unresolved: ${plural(unresolved, "decision")} ${
          unresolved === 1 ? "needs" : "need"
        } a person ` +
          "(deno task audit list --outcome unresolved)",
      );
    }
    if (attention !== undefined) lines.push(...attentionLines(attention));
    if (jobs.length > 0) lines.push("");
  }
  if (jobs.length === 0) {
    lines.push(jobId === undefined ? "No decisions recorded" : `No decisions for job "${jobId}"`);
  }
  jobs.forEach((job, i) => {
    if (i > 0) lines.push("");
    const app = job.app_ids === null ? "" : ` (app ${job.app_ids})`;
    lines.push(`Job ${job.job_id ?? "(none)"}${app}`);
    lines.push(`  first ${job.first_at}, last ${job.last_at}`);
    lines.push(
      `  ${
        plural(job.decisions, "decision")
      }: ${job.unchanged} unchanged, ${job.resolved} resolved, ` +
        `${job.unresolved} unresolved, ${job.skipped} skipped`,
    );
    if (job.resolved > 0) {
      const reused = job.reused > 0 ? `; ${job.reused} reused an earlier decision` : "";
      lines.push(
        `  resolved by middle_name ${job.middle_name}, middle_initial ${job.middle_initial}, ` +
          `numeric_suffix ${job.numeric_suffix}${reused}`,
      );
    }
  });
  return lines;
}

/** Decisions with a deactivated holder listed by the summary (the count covers all). */
const INACTIVE_SHOWN = 10;

/** What else the summary puts before the jobs. */
export interface Attention {
  readonly inactive: { readonly rows: readonly InactiveHolderDecision[]; readonly total: number };
  readonly releases: { readonly count: number; readonly last_at: string | null };
}

function attentionLines({ inactive, releases }: Attention): string[] {
  const lines: string[] = [];
  if (inactive.total > 0) {
    lines.push(
      `Conflicts with a deactivated or suspended account: ${plural(inactive.total, "decision")} ` +
        "(often the same person returning: reactivating the old account may be better than a " +
        "second identity)",
    );
    for (const d of inactive.rows) {
      const given = d.final_login === null ? "unresolved" : `given ${printable(d.final_login)}`;
      lines.push(
        `  ${d.received_at}  ${printable(d.original_login ?? "-")} is held by ` +
          `${d.holder_okta_user_id ?? "an Okta user"} (${d.holder_status}); ${given}`,
      );
    }
    if (inactive.total > inactive.rows.length) {
      lines.push(`  ... and ${inactive.total - inactive.rows.length} more`);
    }
  }
  if (releases.count > 0) {
    lines.push(
      `Released reservations: ${plural(releases.count, "login")} Okta never confirmed ` +
        `${releases.count === 1 ? "was" : "were"} released ` +
        `(sync --release-unconfirmed-after), last ${releases.last_at}; see table releases`,
    );
  }
  return lines;
}

// --- list ------------------------------------------------------------------------------------

/** Rows a table shows unless --limit says otherwise. */
const TABLE_ROWS = 50;

function runList(args: string[], ctx: Context): number | Promise<number> {
  let filter;
  let chosen: Format;
  try {
    const { values } = parseArgs({
      args,
      options: {
        job: { type: "string" },
        login: { type: "string" },
        outcome: { type: "string" },
        since: { type: "string" },
        limit: { type: "string" },
        format: { type: "string", default: "table" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      ctx.terminal.out(USAGE);
      return 0;
    }
    chosen = format(values.format);
    filter = {
      jobId: nonEmpty(values.job, "--job"),
      login: nonEmpty(values.login, "--login"),
      outcome: outcome(values.outcome),
      since: values.since === undefined ? undefined : parseSince(values.since, ctx.now()),
      limit: values.limit === undefined
        ? (chosen === "table" ? TABLE_ROWS : undefined)
        : positiveInteger(values.limit, "--limit"),
    };
  } catch (error) {
    ctx.terminal.err(usageError(error));
    return EXIT_USAGE;
  }
  return withDatabase(ctx, "read", async (db) => {
    const { rows, total } = await listDecisions(db, filter);
    if (chosen !== "table") ctx.terminal.out(exportRows(rows, chosen));
    else for (const line of listText(rows, total)) ctx.terminal.out(line);
    return 0;
  });
}

/** The decisions as an aligned table with a count below. */
export function listText(rows: readonly DecisionRow[], total: number): string[] {
  if (total === 0) return ["No decisions match"];
  const lines = table(
    ["RECEIVED (UTC)", "JOB", "EXTERNAL ID", "OUTCOME", "STRATEGY", "LOGIN", "FINAL LOGIN"],
    rows.map((row) => [
      row.received_at.replace(/\.\d+Z$/, "Z"),
      row.job_id,
      row.external_id,
      row.outcome,
      row.strategy,
      row.original_login,
      row.final_login,
    ]),
  );
  lines.push(
    rows.length === total
      ? plural(total, "decision")
      : `Newest ${rows.length} of ${plural(total, "decision")} (see --limit)`,
  );
  return lines;
}

/** Columns padded to their widest cell; `-` for a missing value, control characters escaped. */
export function table(header: readonly string[], rows: readonly (string | null)[][]): string[] {
  const cells = [header, ...rows.map((row) => row.map((cell) => printable(cell ?? "-")))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) =>
    row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i]!)).join("  ")
      .trimEnd()
  );
}

// --- prune -----------------------------------------------------------------------------------

function runPrune(args: string[], ctx: Context): number | Promise<number> {
  let age;
  let dryRun;
  try {
    const { values } = parseArgs({
      args,
      options: {
        "older-than": { type: "string" },
        "dry-run": { type: "boolean", default: false },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      ctx.terminal.out(USAGE);
      return 0;
    }
    if (values["older-than"] === undefined) {
      throw new TypeError("Option --older-than is required, for example --older-than 90d");
    }
    age = { text: values["older-than"], ms: parseAge(values["older-than"], "--older-than") };
    dryRun = values["dry-run"];
  } catch (error) {
    ctx.terminal.err(usageError(error));
    return EXIT_USAGE;
  }
  const before = new Date(ctx.now().getTime() - age.ms).toISOString();
  // On a full disk even deleting needs room: the reserve set aside beside the database gives it,
  // and is set aside again afterwards while there is room.
  const released = !dryRun && ctx.databaseUrl === null && releaseReserve(ctx.dbPath);
  return withDatabase(ctx, dryRun ? "read" : "write", async (db) => {
    let counts;
    try {
      counts = await pruneAudit(db, before, { dryRun });
    } finally {
      if (released) ensureReserve(ctx.dbPath);
    }
    ctx.terminal.out(
      `${dryRun ? "Would remove" : "Removed"} ${plural(counts.decisions, "decision")} and ` +
        `${plural(counts.rejections, "rejection")} received before ${before} ` +
        `(older than ${age.text}); logins stay reserved`,
    );
    return 0;
  });
}

// --- shared ----------------------------------------------------------------------------------

/**
 * Opens the audit: the existing SQLite file (read-only unless writing), or PostgreSQL with
 * `DATABASE_URL`; runs `use`, closes it.
 */
async function withDatabase(
  ctx: Context,
  mode: "read" | "write",
  use: (db: Queryable) => Promise<number>,
): Promise<number> {
  if (ctx.databaseUrl !== null) {
    const where = redactedUrl(ctx.databaseUrl);
    let opened;
    try {
      opened = await openPgQueryable(ctx.databaseUrl);
    } catch (error) {
      ctx.terminal.err(`Cannot open ${where}: ${errorMessage(error)}`);
      return 1;
    }
    try {
      return await use(opened.q);
    } catch (error) {
      ctx.terminal.err(`Cannot read ${where}: ${errorMessage(error)}`);
      return 1;
    } finally {
      await opened.close();
    }
  }
  let db: DatabaseSync;
  try {
    if (!Deno.statSync(ctx.dbPath).isFile) throw new TypeError("not a file");
    if (mode === "write") db = openDatabase(ctx.dbPath);
    else {
      db = new DatabaseSync(ctx.dbPath, { readOnly: true });
      db.exec("PRAGMA busy_timeout = 5000");
    }
  } catch (error) {
    ctx.terminal.err(`Cannot open "${ctx.dbPath}": ${errorMessage(error)}`);
    return 1;
  }
  try {
    const hasAudit = db.prepare(
      "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('decisions', 'rejections')",
    ).get() as { n: number };
    if (hasAudit.n !== 2) {
      ctx.terminal.err(`Cannot read "${ctx.dbPath}": it holds no audit tables`);
      return 1;
    }
    return await use(sqliteQueryable(db));
  } catch (error) {
    ctx.terminal.err(`Cannot read "${ctx.dbPath}": ${errorMessage(error)}`);
    return 1;
  } finally {
    db.close();
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

function format(text: string): Format {
  if (text === "table" || text === "csv" || text === "json") return text;
  throw new TypeError(`Option --format must be table, csv or json, got "${text}"`);
}

function outcome(text: string | undefined): Outcome | undefined {
  if (text === undefined) return undefined;
  if ((OUTCOMES as readonly string[]).includes(text)) return text as Outcome;
  throw new TypeError(`Option --outcome must be one of ${OUTCOMES.join(", ")}, got "${text}"`);
}

function positiveInteger(text: string, option: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) === 0) {
    throw new TypeError(`Option ${option} must be a whole number above 0, got "${text}"`);
  }
  return Number(text);
}

function nonEmpty(text: string | undefined, option: string): string | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === "") throw new TypeError(`Option ${option} must not be empty`);
  return text.trim();
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** A cell safe to print: control characters (a newline in a login) shown escaped. */
function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
