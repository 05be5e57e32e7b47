/** `deno task audit summary`: what each import job did, and what needs a person first. */

import {
  countRejections,
  type InactiveHolderDecision,
  inactiveHolders,
  type JobSummary,
  type JudgedDecision,
  ownerFallbacks,
  personJudgements,
  releaseCounts,
  summarizeJobs,
} from "../store/audit_queries.ts";
import { type OpenCounts, openCounts } from "../store/audit_handled.ts";
import {
  type Context,
  exportRows,
  format,
  nonEmpty,
  plural,
  positiveInteger,
  printable,
  subcommandOptions,
  withDatabase,
} from "./audit_shared.ts";

/** Runs `audit summary ARGS`; resolves to the exit code. */
export function runSummary(args: string[], ctx: Context): number | Promise<number> {
  const options = subcommandOptions(
    args,
    {
      job: { type: "string" },
      limit: { type: "string", default: "10" },
      format: { type: "string", default: "table" },
    },
    ctx,
    (values) => ({
      jobId: nonEmpty(values.job, "--job"),
      limit: positiveInteger(values.limit, "--limit"),
      format: format(values.format),
    }),
  );
  if (typeof options === "number") return options;
  return withDatabase(ctx, "read", async (db) => {
    const jobs = await summarizeJobs(db, { jobId: options.jobId, limit: options.limit });
    if (options.format === "csv") {
      ctx.terminal.out(exportRows(jobs, options.format));
      return 0;
    }
    const rejections = options.jobId === undefined ? await countRejections(db) : [];
    const open = options.jobId === undefined ? await openCounts(db) : undefined;
    if (options.format === "json") {
      // Everything the table says, for a monitor: the refusals and what needs a person first.
      const whole = options.jobId === undefined
        ? {
          refusals: rejections,
          unresolved: open!.unresolved,
          handled: open!.handled,
          owner_fallbacks: await ownerFallbacks(db),
          judged: await personJudgements(db, INACTIVE_SHOWN),
          inactive_holders: await inactiveHolders(db, INACTIVE_SHOWN),
          releases: await releaseCounts(db),
          jobs,
        }
        : { jobs };
      ctx.terminal.out(JSON.stringify(whole, null, 2));
      return 0;
    }
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
    const attention = open !== undefined
      ? {
        open,
        judged: await personJudgements(db, INACTIVE_SHOWN),
        inactive: await inactiveHolders(db, INACTIVE_SHOWN),
        releases: await releaseCounts(db),
      }
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
    // Counted over the whole audit, not the jobs shown; handled ones are done with.
    const unresolved = attention?.open?.unresolved ??
      jobs.reduce((sum, job) => sum + job.unresolved, 0);
    if (unresolved > 0) {
      lines.push(
        `Unresolved: ${plural(unresolved, "decision")} ${
          unresolved === 1 ? "needs" : "need"
        } a person ` +
          "(deno task audit list --open; then audit resolve EVENT_ID --note TEXT)",
      );
    }
    const handled = attention?.open?.handled ?? 0;
    if (handled > 0) {
      lines.push(
        `Handled: ${plural(handled, "decision")} marked handled by a person ` +
          "(audit list --format csv has who, when and why)",
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

/** One judged decision: both values, the holder's Okta user id, and what was done. */
function judgedLine(d: JudgedDecision): string {
  const login = printable(d.original_login ?? "-");
  const holder = d.holder_okta_user_id ?? "an Okta user";
  const values = `${printable(d.person ?? "-")} / holder ${printable(d.holder_person ?? "-")}`;
  const done = d.person_action === "linked"
    ? `linked to ${holder}`
    : d.person_action === "refused_link"
    ? `link refused; created as ${printable(d.final_login ?? "unresolved")}`
    : d.person_match === "different"
    ? `linked by Okta anyway (PERSON_MATCH=report)`
    : `given ${printable(d.final_login ?? "unresolved")} (PERSON_MATCH=report)`;
  const found = d.person_match === "different"
    ? `a ${d.action === "LINK_USER" ? "link" : "conflict"} with another person`
    : "the same person returning";
  return `${d.received_at}  ${login} held by ${holder}: ${found} (${values}); ${done}`;
}

/** What else the summary puts before the jobs. */
export interface Attention {
  /** Unresolved decisions still open, and decisions handled (`audit resolve`). */
  readonly open?: OpenCounts;
  /** Wrong links and returning people (`PERSON_MATCH`); absent in older callers. */
  readonly judged?: { readonly rows: readonly JudgedDecision[]; readonly total: number };
  readonly inactive: { readonly rows: readonly InactiveHolderDecision[]; readonly total: number };
  readonly releases: { readonly count: number; readonly last_at: string | null };
}

function attentionLines({ judged, inactive, releases }: Attention): string[] {
  const lines: string[] = [];
  if (judged !== undefined && judged.total > 0) {
    lines.push(
      `Wrong links and returning people (PERSON_ATTRIBUTE): ${plural(judged.total, "decision")}`,
    );
    for (const d of judged.rows) lines.push(`  ${judgedLine(d)}`);
    if (judged.total > judged.rows.length) {
      lines.push(`  ... and ${judged.total - judged.rows.length} more`);
    }
  }
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
