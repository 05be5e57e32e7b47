/** `deno task audit prune`: removes old audit rows; logins stay reserved. */

import { parseAge } from "./cli.ts";
import { pruneAudit } from "../store/audit_queries.ts";
import { type Context, plural, subcommandOptions, withDatabase } from "./audit_shared.ts";
import { ensureReserve, releaseReserve } from "../store/database.ts";

/** Runs `audit prune ARGS`; resolves to the exit code. */
export function runPrune(args: string[], ctx: Context): number | Promise<number> {
  const parsed = subcommandOptions(
    args,
    {
      "older-than": { type: "string" },
      "dry-run": { type: "boolean", default: false },
    },
    ctx,
    (values) => {
      const text = values["older-than"];
      if (text === undefined) {
        throw new TypeError("Option --older-than is required, for example --older-than 90d");
      }
      return { age: { text, ms: parseAge(text, "--older-than") }, dryRun: values["dry-run"] };
    },
  );
  if (typeof parsed === "number") return parsed;
  const { age, dryRun } = parsed;
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
