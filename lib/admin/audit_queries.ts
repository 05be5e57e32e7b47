/**
 * Read and prune the audit tables for admins: what each import job did, which decisions match a
 * filter, and removing old rows. The login index (`logins`, `suffix_counters`) is never touched:
 * a reservation outlives its audit row.
 */

import type { DatabaseSync } from "node:sqlite";
import type { DecisionRecord } from "../decision/audit.ts";
import { inTransaction, truncateWal } from "../store/database.ts";

/** The outcomes a decision can have. */
export const OUTCOMES = ["unchanged", "resolved", "unresolved", "skipped"] as const;
/** One decision outcome. */
export type Outcome = DecisionRecord["outcome"];

/** What one import job did; the same columns as the `job_summary` view. */
export interface JobSummary {
  /** `null` for requests that carried no job id. */
  readonly job_id: string | null;
  /** The source app ids seen in the job, comma-separated. */
  readonly app_ids: string | null;
  readonly first_at: string;
  readonly last_at: string;
  readonly decisions: number;
  readonly unchanged: number;
  readonly resolved: number;
  readonly unresolved: number;
  readonly skipped: number;
  readonly middle_name: number;
  readonly middle_initial: number;
  readonly numeric_suffix: number;
  /** Decisions that handed an owner the login it was given before. */
  readonly reused: number;
}

/** Jobs, most recent first (by their last decision). */
export function summarizeJobs(
  db: DatabaseSync,
  options: { readonly jobId?: string | undefined; readonly limit: number },
): JobSummary[] {
  const where = options.jobId === undefined ? "" : "WHERE job_id = ?";
  const params = options.jobId === undefined ? [options.limit] : [options.jobId, options.limit];
  // The job_summary view (lib/store/database.ts) is what admins query too: one definition of the counts.
  return db.prepare(`
    SELECT job_id, app_ids, first_at, last_at, decisions, unchanged, resolved, unresolved,
           skipped, middle_name, middle_initial, numeric_suffix, reused
    FROM job_summary ${where}
    ORDER BY last_at DESC
    LIMIT ?`).all(...params).map((row) => ({ ...row }) as unknown as JobSummary);
}

/** Refused requests per HTTP status. */
export interface RejectionCount {
  readonly status: number;
  readonly rejections: number;
  readonly last_at: string;
}

/** Rejections per status, most frequent first. */
export function countRejections(db: DatabaseSync): RejectionCount[] {
  return db.prepare(`
    SELECT status, sum(count) AS rejections, max(coalesce(last_at, received_at)) AS last_at
    FROM rejections GROUP BY status ORDER BY rejections DESC, status`)
    .all().map((row) => ({ ...row }) as unknown as RejectionCount);
}

/** How many decisions had no owner attribute value (owned by the app user id or the event). */
export function ownerFallbacks(db: DatabaseSync): { appUserId: number; event: number } {
  const row = db.prepare(`SELECT
      count(*) FILTER (WHERE owner_source = 'app_user_id') AS app_user_id,
      count(*) FILTER (WHERE owner_source = 'event') AS event
    FROM decisions WHERE action = 'CREATE_USER'`).get() as { app_user_id: number; event: number };
  return { appUserId: row.app_user_id, event: row.event };
}

/** Okta statuses of a holder who may be the imported person returning. */
export const INACTIVE_STATUSES = ["DEPROVISIONED", "SUSPENDED"] as const;

/** A decision whose login conflicted with a deactivated or suspended Okta account. */
export interface InactiveHolderDecision {
  readonly received_at: string;
  readonly original_login: string | null;
  readonly final_login: string | null;
  readonly outcome: Outcome;
  readonly holder_status: string;
  readonly holder_okta_user_id: string | null;
}

/** The newest `limit` such decisions, and how many there are in all. */
export function inactiveHolders(
  db: DatabaseSync,
  limit: number,
): { readonly rows: InactiveHolderDecision[]; readonly total: number } {
  const where = `holder_status IN (${INACTIVE_STATUSES.map((s) => `'${s}'`).join(", ")})`;
  const { total } = db.prepare(`SELECT count(*) AS total FROM decisions WHERE ${where}`)
    .get() as { total: number };
  const rows = db.prepare(`
    SELECT received_at, original_login, final_login, outcome, holder_status, holder_okta_user_id
    FROM decisions WHERE ${where} ORDER BY received_at DESC, event_id DESC LIMIT ?`)
    .all(limit).map((row) => ({ ...row }) as unknown as InactiveHolderDecision);
  return { rows, total };
}

/** Hook reservations released by `sync --release-unconfirmed-after`: how many, the last when. */
export function releaseCounts(db: DatabaseSync): { count: number; last_at: string | null } {
  return {
    ...db.prepare("SELECT count(*) AS count, max(released_at) AS last_at FROM releases").get(),
  } as {
    count: number;
    last_at: string | null;
  };
}

/** One `decisions` row as listed (the reply body left out: it repeats the other columns). */
export interface DecisionRow {
  readonly received_at: string;
  readonly event_id: string;
  readonly job_id: string | null;
  readonly app_id: string | null;
  readonly external_id: string | null;
  readonly action: string | null;
  readonly original_login: string | null;
  readonly final_login: string | null;
  readonly outcome: Outcome;
  readonly strategy: string | null;
  readonly reused: number;
  readonly reason: string | null;
  readonly status: number;
  readonly duration_ms: number;
  /** Okta status of the account holding the conflicting login, when a sync saw it. */
  readonly holder_status: string | null;
}

/** Which decisions to list; every field narrows. */
export interface DecisionFilter {
  readonly jobId?: string | undefined;
  /** Text contained in the original or final login, compared ignoring case. */
  readonly login?: string | undefined;
  readonly outcome?: Outcome | undefined;
  /** ISO timestamp: only decisions received at or after it. */
  readonly since?: string | undefined;
  /** Most rows returned; `undefined` for all. */
  readonly limit?: number | undefined;
}

/** Matching decisions, newest first, and how many match in all. */
export function listDecisions(
  db: DatabaseSync,
  filter: DecisionFilter,
): { readonly rows: DecisionRow[]; readonly total: number } {
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  if (filter.jobId !== undefined) {
    conditions.push("job_id = ?");
    params.push(filter.jobId);
  }
  if (filter.login !== undefined) {
    conditions.push("(original_login LIKE ? ESCAPE '\\' OR final_login LIKE ? ESCAPE '\\')");
    const pattern = `%${filter.login.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    params.push(pattern, pattern);
  }
  if (filter.outcome !== undefined) {
    conditions.push("outcome = ?");
    params.push(filter.outcome);
  }
  if (filter.since !== undefined) {
    conditions.push("received_at >= ?");
    params.push(filter.since);
  }
  const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
  const { total } = db.prepare(`SELECT count(*) AS total FROM decisions ${where}`)
    .get(...params) as { total: number };
  const rows = db.prepare(`
    SELECT received_at, event_id, job_id, app_id, external_id, action, original_login,
           final_login, outcome, strategy, reused, reason, status, duration_ms, holder_status
    FROM decisions ${where}
    ORDER BY received_at DESC, event_id DESC
    LIMIT ?`).all(...params, filter.limit ?? -1).map((row) =>
    ({ ...row }) as unknown as DecisionRow
  );
  return { rows, total };
}

/** Rows removed (or, on a dry run, that would be). */
export interface PruneCounts {
  readonly decisions: number;
  readonly rejections: number;
}

/** Rows deleted per transaction, so the service never waits long for the write lock. */
export const PRUNE_BATCH_ROWS = 5_000;

/**
 * Deletes `decisions` and `rejections` received before `before` (an ISO timestamp), in small
 * transactions; logins stay reserved. With `dryRun`, only counts.
 */
export function pruneAudit(
  db: DatabaseSync,
  before: string,
  options: { readonly dryRun?: boolean; readonly batchRows?: number } = {},
): PruneCounts {
  const counts = { decisions: 0, rejections: 0 };
  for (const table of ["decisions", "rejections"] as const) {
    if (options.dryRun) {
      const row = db.prepare(`SELECT count(*) AS n FROM ${table} WHERE received_at < ?`)
        .get(before) as { n: number };
      counts[table] = row.n;
      continue;
    }
    const remove = db.prepare(
      `DELETE FROM ${table} WHERE rowid IN
         (SELECT rowid FROM ${table} WHERE received_at < ? LIMIT ?)`,
    );
    const batch = options.batchRows ?? PRUNE_BATCH_ROWS;
    // On a full disk the WAL's own space is what the deletes can write into.
    truncateWal(db);
    for (;;) {
      const removed = inTransaction(db, () => Number(remove.run(before, batch).changes));
      truncateWal(db);
      counts[table] += removed;
      if (removed < batch) break;
    }
  }
  return counts;
}
