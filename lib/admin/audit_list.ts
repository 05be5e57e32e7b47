/** `deno task audit list`: decisions, newest first, as a table, CSV or JSON. */

import { type DecisionRow, listDecisions } from "../store/audit_queries.ts";
import {
  type Context,
  exportRows,
  format,
  nonEmpty,
  outcome,
  parseSince,
  plural,
  positiveInteger,
  printable,
  subcommandOptions,
  withDatabase,
} from "./audit_shared.ts";

/** Rows a table shows unless --limit says otherwise. */
const TABLE_ROWS = 50;

/** Runs `audit list ARGS`; resolves to the exit code. */
export function runList(args: string[], ctx: Context): number | Promise<number> {
  const parsed = subcommandOptions(
    args,
    {
      job: { type: "string" },
      login: { type: "string" },
      outcome: { type: "string" },
      since: { type: "string" },
      limit: { type: "string" },
      open: { type: "boolean", default: false },
      format: { type: "string", default: "table" },
    },
    ctx,
    (values) => {
      const chosen = format(values.format);
      const filter = {
        jobId: nonEmpty(values.job, "--job"),
        login: nonEmpty(values.login, "--login"),
        outcome: outcome(values.outcome),
        since: values.since === undefined ? undefined : parseSince(values.since, ctx.now()),
        open: values.open,
        limit: values.limit === undefined
          ? (chosen === "table" ? TABLE_ROWS : undefined)
          : positiveInteger(values.limit, "--limit"),
      };
      return { chosen, filter };
    },
  );
  if (typeof parsed === "number") return parsed;
  const { chosen, filter } = parsed;
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
    [
      "RECEIVED (UTC)",
      "EVENT ID",
      "JOB",
      "EXTERNAL ID",
      "OUTCOME",
      "STRATEGY",
      "LOGIN",
      "FINAL LOGIN",
      "REASON",
    ],
    rows.map((row) => [
      row.received_at.replace(/\.\d+Z$/, "Z"),
      // What `audit resolve` takes.
      row.event_id,
      row.job_id,
      row.external_id,
      row.handled_at === null ? row.outcome : `${row.outcome} (handled)`,
      row.strategy,
      row.original_login,
      row.final_login,
      // Why it was replaced, skipped or left unresolved: the first thing an admin needs.
      row.reason,
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
