/**
 * `deno task preview USERS.csv`: argument parsing, the throw-away index copy and reporting around
 * {@link previewImport}. The live database is only ever attached read-only.
 */

import { PREVIEW_OPTIONS, PREVIEW_VARIABLES } from "../commands.ts";
import { stringify } from "csv-stringify/sync";
import { createReadStream } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, DATA_DIR, parseConfig, redactedUrl } from "../config.ts";
import { copyLoginIndex, copyLoginIndexFromPostgres, IndexCopyError } from "../store/index_copy.ts";
import {
  type CommandIo,
  errorMessage,
  EXIT_USAGE,
  inputProblem,
  outputProblem,
  PROCESS_IO,
  usageError,
} from "./cli.ts";
import {
  type PlanRow,
  PreviewFormatError,
  previewImport,
  type PreviewReport,
  templateColumns,
} from "./preview.ts";

/** The preview's environment, read by name. */
export type PreviewEnv = Partial<Record<typeof PREVIEW_VARIABLES[number], string>>;

/** App id used when the audit names none. */
export const DEFAULT_APP_ID = "preview";

const USAGE = `Usage: deno task preview [options] USERS.csv

Runs every row of a CSV Directory file through the hook's own login resolution, against a
throw-away copy of the login index, and reports what an import would do. Rows collide with each
other as in one import job. The database is never written.

Options:
  --id-column NAME           Column with the unique identifier (default employeeId)
  --login-column NAME        Column mapped to the Okta login (default userName)
  --login-template TEMPLATE  The app's username format instead, e.g.
                             '{firstName}.{lastName}@example.com' ({column}: its value)
  --middle-name-column NAME  Column with the middle name (default middleName)
  --app-id ID                The CSV app's Okta id, part of each user's owner key (default: the
                             one app id in the audit, else "${DEFAULT_APP_ID}")
  --out FILE                 Write the whole plan to FILE, or - for stdout
  --format csv|json          Plan format (default: from the --out extension, else csv)
  -h, --help                 Show this help

Environment: DB_PATH (default ${DATA_DIR}/import-hook.db) or DATABASE_URL, and OWNER_ATTRIBUTE,
MIDDLE_NAME_ATTRIBUTE, RESOLUTION_STRATEGIES as the service reads them.
Exit codes: 0 done (bad rows included), 1 failure, 2 bad arguments.`;

/** Bad rows listed one by one in the summary; the rest are counted (all are in the plan). */
const BAD_ROWS_SHOWN = 20;

/** Columns of the plan, CSV header and JSON keys alike. */
export const PLAN_COLUMNS = [
  "line",
  "id",
  "original_login",
  "planned_login",
  "outcome",
  "strategy",
  "reason",
  "person",
] as const;

interface Arguments {
  readonly file: string;
  readonly idColumn: string;
  readonly loginColumn: string;
  readonly loginTemplate: string | undefined;
  readonly middleNameColumn: string;
  readonly appId: string | undefined;
  readonly out: string | undefined;
  readonly format: "csv" | "json";
}

/** Runs the preview command; resolves to the exit code (2: bad arguments, 1: failure). */
export async function runPreview(
  args: string[],
  env: PreviewEnv,
  io: CommandIo = PROCESS_IO,
): Promise<number> {
  const terminal = io;
  const { err } = terminal;
  let parsed: Arguments | "help";
  try {
    parsed = parseArguments(args);
  } catch (error) {
    err(usageError(error));
    return EXIT_USAGE;
  }
  if (parsed === "help") {
    terminal.out(USAGE);
    return 0;
  }
  const options = parsed;
  // With the plan on stdout, the summary moves to stderr.
  const out = options.out === "-" ? err : terminal.out;

  let config;
  try {
    // Only the preview's variables: the service's defaults fill in the rest.
    config = parseConfig(env);
  } catch (error) {
    err(
      error instanceof ConfigError
        ? error.message
        : `Cannot read "${options.file}": ${errorMessage(error)}`,
    );
    return 1;
  }
  // Checked before the index is copied: a wrong path costs nothing.
  const problem = await inputProblem(options.file) ??
    (options.out === undefined || options.out === "-"
      ? null
      : await outputProblem(options.out, "--out"));
  if (problem !== null) {
    err(problem);
    return 1;
  }

  let copy;
  try {
    const dir = `${DATA_DIR}/tmp`;
    copy = config.databaseUrl === null
      ? await copyLoginIndex(config.dbPath, { dir })
      : await copyLoginIndexFromPostgres(config.databaseUrl, { dir });
  } catch (error) {
    const where = config.databaseUrl === null
      ? `"${config.dbPath}"`
      : redactedUrl(config.databaseUrl);
    err(
      error instanceof IndexCopyError
        ? error.message
        : `Cannot copy ${where}: ${errorMessage(error)}`,
    );
    return 1;
  }
  try {
    const appId = options.appId ?? (copy.appIds.length <= 1 ? copy.appIds[0] : undefined);
    if (appId === undefined && copy.appIds.length > 1) {
      err(
        `The audit of "${config.dbPath}" holds several apps (${
          copy.appIds.map((id) => `"${id}"`).join(", ")
        }, ...): choose one with --app-id (see --help)`,
      );
      return 2;
    }
    const started = performance.now();
    const report = await previewImport(copy.db, createReadStream(options.file), {
      idColumn: options.idColumn,
      loginColumn: options.loginColumn,
      loginTemplate: options.loginTemplate,
      middleNameColumn: options.middleNameColumn,
      appId: appId ?? DEFAULT_APP_ID,
      ownerAttributes: config.ownerAttributes,
      middleNameAttribute: config.middleNameAttribute,
      strategies: config.strategies,
      personAttribute: config.personAttribute,
      personMatch: config.personMatch,
      at: new Date().toISOString(),
      onProgress: (rows) => err(`... ${rows} rows`),
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    out(
      `Previewed ${options.file} against a copy of ${
        config.databaseUrl === null ? config.dbPath : redactedUrl(config.databaseUrl)
      } ` +
        `(${copy.logins} logins, app "${appId ?? DEFAULT_APP_ID}") in ${seconds} s; ` +
        `the database was not written`,
    );
    for (const line of summaryLines(report)) out(line);
    if (options.out !== undefined) {
      const text = options.format === "json" ? planJson(report.plan) : planCsv(report.plan);
      if (options.out === "-") terminal.out(text.replace(/\n$/, ""));
      else {
        await Deno.writeTextFile(options.out, text);
        out(`Plan (${options.format}, ${report.plan.length} rows) written to ${options.out}`);
      }
    }
    return 0;
  } catch (error) {
    const what = error instanceof PreviewFormatError ? "" : "stopped: ";
    err(`Cannot preview "${options.file}": ${what}${errorMessage(error)}`);
    return 1;
  } finally {
    await copy.remove();
  }
}

function parseArguments(args: string[]): Arguments | "help" {
  const { values, positionals } = parseArgs({
    args,
    options: PREVIEW_OPTIONS,
    allowPositionals: true,
  });
  if (values.help) return "help";
  if (positionals.length !== 1) throw new TypeError("Expected exactly one CSV file");
  for (const name of ["id-column", "login-column", "middle-name-column", "app-id"] as const) {
    if (values[name]?.trim() === "") throw new TypeError(`Option --${name} must not be empty`);
  }
  const out = values.out;
  if (out === "") throw new TypeError("Option --out must not be empty");
  const format = values.format ?? formatOf(out);
  if (format !== "csv" && format !== "json") {
    throw new TypeError(`Option --format must be csv or json, got "${format}"`);
  }
  return {
    file: positionals[0]!,
    idColumn: values["id-column"].trim(),
    loginColumn: values["login-column"].trim(),
    loginTemplate: loginTemplate(values["login-template"]),
    middleNameColumn: values["middle-name-column"].trim(),
    appId: values["app-id"]?.trim(),
    out,
    format,
  };
}

function formatOf(out: string | undefined): string {
  if (out === undefined || out === "-") return "csv";
  const extension = /\.([^./\\]+)$/.exec(out)?.[1]?.toLowerCase();
  if (extension === "csv" || extension === "json") return extension;
  throw new TypeError(`Cannot tell the plan format from "${out}": add --format csv or json`);
}

/** The counts, then the first bad rows and warnings. */
export function summaryLines(report: PreviewReport): string[] {
  const lines = [
    count("rows", report.rows),
    count("unchanged", report.unchanged),
    count("resolved", report.resolved),
    ...[...report.byStrategy].map(([strategy, n]) => count(`  ${strategy}`, n)),
    count("unresolved", report.unresolved),
    ...(report.linked > 0 ? [count("linked (returning)", report.linked)] : []),
    count("bad rows", report.bad),
  ];
  const bad = report.plan.filter((row) => row.outcome === "bad");
  for (const row of bad.slice(0, BAD_ROWS_SHOWN)) lines.push(`line ${row.line}: ${row.reason}`);
  if (bad.length > BAD_ROWS_SHOWN) {
    lines.push(`... and ${bad.length - BAD_ROWS_SHOWN} more bad rows (all are in the plan)`);
  }
  for (const warning of report.warnings) lines.push(`Warning: ${warning}`);
  return lines;
}

function count(label: string, n: number): string {
  return `  ${label.padEnd(18)}${String(n).padStart(8)}`;
}

function planRecords(plan: readonly PlanRow[]) {
  return plan.map((row) => ({
    line: row.line,
    id: row.id,
    original_login: row.originalLogin,
    planned_login: row.plannedLogin,
    outcome: row.outcome,
    strategy: row.strategy,
    reason: row.reason,
    person: row.person ?? null,
  }));
}

/** The plan as CSV with a header row; empty cells for nulls. */
export function planCsv(plan: readonly PlanRow[]): string {
  return stringify(planRecords(plan), { header: true, columns: [...PLAN_COLUMNS] });
}

/** The plan as a JSON array, one row object per line. */
export function planJson(plan: readonly PlanRow[]): string {
  const rows = planRecords(plan).map((row) => `  ${JSON.stringify(row)}`);
  return rows.length === 0 ? "[]\n" : `[\n${rows.join(",\n")}\n]\n`;
}

function loginTemplate(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (templateColumns(text).length === 0) {
    throw new TypeError(
      `Option --login-template must name at least one {column}, got "${text}"`,
    );
  }
  return text.trim();
}
