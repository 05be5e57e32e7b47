/**
 * The import preview: every row of a CSV Directory file, shaped as the request Okta would send
 * for it, through the hook's own parsing and resolution, against a login index the caller owns
 * (a throw-away copy). Rows reserve logins as they go, so rows of one file collide with each other
 * as they would in one import job.
 */

import type { PersonMatchMode } from "../decision/records.ts";
import { parse } from "csv-parse";
import type { DatabaseSync } from "node:sqlite";
import type { Readable } from "node:stream";
import type { StrategyName } from "../config.ts";
import { crlfToLf } from "./csv.ts";
import { readHookEvent } from "../decision/hook_event.ts";
import { hookRequestSchema, IMPORT_EVENT_TYPE, jsonPath } from "../decision/hook_schema.ts";
import { LoginIndex, sqlitePort } from "../store/sqlite_login_index.ts";
import { type Resolution, resolveLogin } from "../decision/resolve_login.ts";
import { inTransaction } from "../store/database.ts";

/** Which CSV columns mean what, and the service settings the hook would run with. */
export interface PreviewOptions {
  /** Column holding the unique identifier (the CSV app's unique identifier field). */
  readonly idColumn: string;
  /** Column the CSV app maps to the Okta login. */
  readonly loginColumn: string;
  /**
   * Okta's username format instead of a column: `{column}` stands for that column's value
   * (`{firstName}.{lastName}@example.com`), as the app's username format builds the login.
   */
  readonly loginTemplate?: string | undefined;
  /** Column holding the middle name. */
  readonly middleNameColumn: string;
  /** The source app's id, part of every owner key. */
  readonly appId: string;
  /**
   * The service's OWNER_ATTRIBUTE list: the id column reaches the hook under the first name, which
   * the rule then reads first, as the service would.
   */
  readonly ownerAttributes: readonly string[];
  /** The service's MIDDLE_NAME_ATTRIBUTE: the middle name column reaches the hook under it. */
  readonly middleNameAttribute: string;
  readonly strategies: readonly StrategyName[];
  /**
   * The service's PERSON_ATTRIBUTE: a column of that name reaches the hook as the Okta user's
   * value, and each conflict is judged as the service would (`personMatch`).
   */
  readonly personAttribute?: string | null;
  readonly personMatch?: PersonMatchMode;
  /** Timestamp written on the reservations in the copy. */
  readonly at: string;
  /** Called every {@link PROGRESS_ROWS} rows. */
  readonly onProgress?: (rows: number) => void;
}

/** What an import would do with one row. */
export interface PlanRow {
  /** 1-based line of the file on which the row starts. */
  readonly line: number;
  readonly id: string | null;
  readonly originalLogin: string | null;
  /** The login Okta would create the user with; `null` when the row would fail. */
  readonly plannedLogin: string | null;
  readonly outcome: "unchanged" | "resolved" | "unresolved" | "linked" | "bad";
  readonly strategy: string | null;
  readonly reason: string;
  /** A judged conflict (PERSON_ATTRIBUTE): `same`/`different`/`unverified`, and what was done. */
  readonly person?: string | null;
}

/** The counts and the plan. */
export interface PreviewReport {
  readonly rows: number;
  readonly unchanged: number;
  readonly resolved: number;
  /** Resolved rows per strategy, in the configured order. */
  readonly byStrategy: ReadonlyMap<string, number>;
  readonly unresolved: number;
  /** Rows whose login's holder is the same person returning (PERSON_MATCH=act). */
  readonly linked: number;
  readonly bad: number;
  /** One entry per row, bad rows included, in file order. */
  readonly plan: readonly PlanRow[];
  /** Things worth knowing that did not stop the run. */
  readonly warnings: readonly string[];
}

/** The file cannot be previewed at all (no header, a named column missing). */
export class PreviewFormatError extends Error {
  override name = "PreviewFormatError";
}

/** How often progress is reported. */
export const PROGRESS_ROWS = 10_000;

/** Job id every previewed request carries. */
export const PREVIEW_JOB_ID = "preview";

/**
 * Reads CSV from `input` and decides every row against the index in `db`, inside one
 * transaction that is committed at the end: `db` must be a copy the caller throws away.
 */
export async function previewImport(
  db: DatabaseSync,
  input: Readable,
  options: PreviewOptions,
): Promise<PreviewReport> {
  const index = new LoginIndex(db);
  const warnings: string[] = [];
  let sawHeader = false;
  // Rows are numbered by the line they start on (a quoted value may span lines): csv-parse
  // reports the line a record or error ends on, so the previous end is tracked here.
  let previousEnd = 1;
  let previousEmpty = 0;
  const startLine = (at: ParseContext) => previousEnd + 1 + at.empty_lines - previousEmpty;
  const ended = (at: ParseContext) => {
    previousEnd = at.lines;
    previousEmpty = at.empty_lines;
  };
  const parser = input.pipe(crlfToLf()).pipe(parse({
    bom: true,
    columns: (header: string[]) => {
      const names = header.map((name) => name.trim());
      checkHeader(names, options, warnings);
      sawHeader = true;
      return names;
    },
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_record: (record: Record<string, string | undefined>, at: ParseContext): Row => {
      const line = startLine(at);
      ended(at);
      return { line, record };
    },
  }));
  const plan: PlanRow[] = [];
  // A row csv-parse cannot read is reported with its line and the rest still run.
  parser.on("skip", (error: Error & ParseContext) => {
    plan.push(badRow(startLine(error), null, null, error.message));
    ended(error);
  });
  const counts = { rows: 0, unchanged: 0, resolved: 0, unresolved: 0, linked: 0 };
  const byStrategy = new Map<string, number>(options.strategies.map((name) => [name, 0]));
  await inTransaction(db, async () => {
    for await (const { line, record } of parser as AsyncIterable<Row>) {
      const row = previewRow(record, line, index, options);
      plan.push(row);
      if (row.outcome === "resolved" && row.strategy !== null) {
        byStrategy.set(row.strategy, (byStrategy.get(row.strategy) ?? 0) + 1);
      }
      if (row.outcome !== "bad") counts[row.outcome]++;
      if (++counts.rows % PROGRESS_ROWS === 0) options.onProgress?.(counts.rows);
    }
  });
  if (!sawHeader) throw new PreviewFormatError("The file is empty: expected a header row");
  plan.sort((a, b) => a.line - b.line);
  const bad = plan.length - counts.unchanged - counts.resolved - counts.unresolved -
    counts.linked;
  return { ...counts, rows: plan.length, byStrategy, bad, plan, warnings };
}

interface Row {
  readonly line: number;
  readonly record: Record<string, string | undefined>;
}

/** The counters csv-parse passes with each record and error. */
interface ParseContext {
  readonly lines: number;
  readonly empty_lines: number;
}

function checkHeader(names: string[], options: PreviewOptions, warnings: string[]): void {
  const found = names.map((name) => `"${name}"`).join(", ");
  const loginColumns = options.loginTemplate === undefined
    ? [[options.loginColumn, "--login-column"] as const]
    : templateColumns(options.loginTemplate).map((c) => [c, "--login-template"] as const);
  for (const [column, option] of [[options.idColumn, "--id-column"] as const, ...loginColumns]) {
    if (!names.includes(column)) {
      throw new PreviewFormatError(
        `The header has no "${column}" column (choose another with ${option}): found ${found}`,
      );
    }
  }
  if (!names.includes(options.middleNameColumn)) {
    warnings.push(
      `The header has no "${options.middleNameColumn}" column: no row has a middle name`,
    );
  }
}

/** The `{column}` names a login template refers to. */
export function templateColumns(template: string): string[] {
  return [...new Set([...template.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!))];
}

/** The login Okta would propose for `record`, or the column whose emptiness prevents one. */
function proposedLogin(
  record: Record<string, string | undefined>,
  options: Pick<PreviewOptions, "loginColumn" | "loginTemplate">,
): string | { empty: string } {
  if (options.loginTemplate === undefined) {
    return present(record[options.loginColumn]) ?? { empty: options.loginColumn };
  }
  for (const column of templateColumns(options.loginTemplate)) {
    if (present(record[column]) === null) return { empty: column };
  }
  return options.loginTemplate.replace(
    /\{([^{}]+)\}/g,
    (_, column: string) => record[column]!.trim(),
  );
}

/** One row as the request Okta would send, through the hook's parsing and resolution. */
function previewRow(
  record: Record<string, string | undefined>,
  line: number,
  index: LoginIndex,
  options: PreviewOptions,
): PlanRow {
  const id = present(record[options.idColumn]);
  const proposed = proposedLogin(record, options);
  const login = typeof proposed === "string" ? proposed : null;
  if (id === null) return badRow(line, null, login, `Empty ${options.idColumn}`);
  if (login === null) {
    return badRow(line, id, null, `Empty ${(proposed as { empty: string }).empty}`);
  }

  // The hook's own schema, on the object rather than its JSON text: the same checks, without a
  // JSON round trip per row.
  const parsed = hookRequestSchema.safeParse(hookRequest(record, line, options));
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${jsonPath(i.path)}: ${i.message}`).join("; ");
    return badRow(line, id, login, `Not a valid import hook request: ${detail}`);
  }
  const read = readHookEvent(parsed.data, options);
  if (!read.ok) {
    const detail = read.problems.map((p) => `${p.location}: ${p.summary}`).join("; ");
    return badRow(line, id, login, `Not a valid import hook request: ${detail}`);
  }
  const resolution = resolveLogin(read.event, sqlitePort(index), {
    strategies: options.strategies,
    at: options.at,
    personMatch: options.personAttribute ? options.personMatch ?? "report" : "off",
  });
  return planRow(line, id, login, resolution);
}

/**
 * The body Okta sends for a CSV Directory row: the row is the app user profile (the unique id
 * also under the owner attribute, the middle name under the middle name attribute), the login
 * column becomes the Okta login, nothing is matched and Okta reports no conflict of its own.
 */
export function hookRequest(
  record: Record<string, string | undefined>,
  line: number,
  options: Pick<
    PreviewOptions,
    | "idColumn"
    | "loginColumn"
    | "loginTemplate"
    | "middleNameColumn"
    | "appId"
    | "ownerAttributes"
    | "middleNameAttribute"
    | "personAttribute"
  >,
): unknown {
  // The record is csv-parse's fresh object for this row: it becomes the profile as it is.
  const profile: Record<string, unknown> = record;
  const middleName = record[options.middleNameColumn] ?? null;
  profile[options.ownerAttributes[0] ?? "employeeId"] = record[options.idColumn];
  profile[options.middleNameAttribute] = middleName;
  return {
    eventId: `preview-${line}`,
    eventType: IMPORT_EVENT_TYPE,
    data: {
      context: {
        conflicts: [],
        application: { id: options.appId },
        job: { id: PREVIEW_JOB_ID, type: "import:users" },
      },
      action: { result: "CREATE_USER" },
      appUser: { profile },
      user: {
        profile: {
          login: proposedLogin(record, options),
          middleName,
          ...(options.personAttribute
            ? { [options.personAttribute]: record[options.personAttribute] ?? null }
            : {}),
        },
      },
    },
  };
}

function planRow(line: number, id: string, login: string, resolution: Resolution): PlanRow {
  const judged = "person" in resolution && resolution.person
    ? {
      person: resolution.person.action === null
        ? resolution.person.match
        : `${resolution.person.match}, ${resolution.person.action}`,
    }
    : {};
  const row = { line, id, originalLogin: login, ...judged };
  switch (resolution.outcome) {
    case "unchanged":
      return {
        ...row,
        plannedLogin: resolution.login,
        outcome: "unchanged",
        strategy: null,
        reason: resolution.reused ? "The owner already holds this login" : "",
      };
    case "resolved":
      return {
        ...row,
        plannedLogin: resolution.login,
        outcome: "resolved",
        strategy: resolution.strategy,
        reason: resolution.reason,
      };
    case "unresolved":
      return {
        ...row,
        plannedLogin: null,
        outcome: "unresolved",
        strategy: null,
        reason: `${resolution.reason} and no candidate is free: ${
          resolution.problems.map((p) => `${p.strategy}: ${p.summary}`).join("; ")
        }`,
      };
    case "linked":
      return {
        ...row,
        plannedLogin: login,
        outcome: "linked",
        strategy: null,
        reason: `The same person returning: linked to ${resolution.oktaUserId}`,
      };
    case "skipped":
      // Every previewed row is a CREATE_USER; kept so a new outcome cannot pass unnoticed.
      return {
        ...row,
        plannedLogin: login,
        outcome: "bad",
        strategy: null,
        reason: resolution.reason,
      };
  }
}

function badRow(line: number, id: string | null, login: string | null, reason: string): PlanRow {
  return {
    line,
    id,
    originalLogin: login,
    plannedLogin: null,
    outcome: "bad",
    strategy: null,
    reason,
  };
}

function present(value: string | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? null : trimmed;
}
