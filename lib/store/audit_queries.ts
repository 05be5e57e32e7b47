/**
 * Read and prune the audit tables for admins: what each import job did, which decisions match a
 * filter, and removing old rows. The login index (`logins`, `suffix_counters`) is never touched:
 * a reservation outlives its audit row.
 */

import type { DecisionRecord } from "../decision/records.ts";
import { openAudit, type Queryable } from "./queryable.ts";
import { INACTIVE_HOLDER, NEEDS_A_PERSON } from "./audit_handled.ts";

/** The outcomes a decision can have. */
export const OUTCOMES = ["unchanged", "resolved", "unresolved", "skipped", "linked"] as const;
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
export async function summarizeJobs(
  db: Queryable,
  options: { readonly jobId?: string | undefined; readonly limit: number },
): Promise<JobSummary[]> {
  const where = options.jobId === undefined ? "" : "WHERE job_id = ?";
  const params = options.jobId === undefined ? [options.limit] : [options.jobId, options.limit];
  // The job_summary view (lib/store/database.ts) is what admins query too: one definition of the counts.
  return (await db.all(
    `
    SELECT job_id, app_ids, first_at, last_at, decisions, unchanged, resolved, unresolved,
           skipped, middle_name, middle_initial, numeric_suffix, reused
    FROM job_summary ${where}
    ORDER BY last_at DESC
    LIMIT ?`,
    params,
  )) as unknown as JobSummary[];
}

/** Refused requests per HTTP status. */
export interface RejectionCount {
  readonly status: number;
  readonly rejections: number;
  readonly last_at: string;
}

/** Rejections per status, most frequent first. */
export async function countRejections(db: Queryable): Promise<RejectionCount[]> {
  return (await db.all(`
    SELECT status, CAST(sum(count) AS INTEGER) AS rejections,
           max(coalesce(last_at, received_at)) AS last_at
    FROM rejections GROUP BY status ORDER BY rejections DESC, status`)) as unknown as RejectionCount[];
}

/** How many decisions had no owner attribute value (owned by the app user id or the event). */
export async function ownerFallbacks(
  db: Queryable,
): Promise<{ appUserId: number; event: number }> {
  const row = await db.get(`SELECT
      CAST(count(*) FILTER (WHERE owner_source = 'app_user_id') AS INTEGER) AS app_user_id,
      CAST(count(*) FILTER (WHERE owner_source = 'event') AS INTEGER) AS event
    FROM decisions WHERE action = 'CREATE_USER'`) as { app_user_id: number; event: number };
  return { appUserId: row.app_user_id, event: row.event };
}

/**
 * {@link ownerFallbacks} of the audit at `target`, opened read-only for the count and closed;
 * `null` when it cannot be read (the start goes on: the store itself was opened).
 */
export async function countOwnerFallbacks(
  target: { readonly dbPath: string; readonly databaseUrl: string | null },
): Promise<{ appUserId: number; event: number } | null> {
  try {
    const opened = await openAudit(target, "read");
    try {
      return await ownerFallbacks(opened.q);
    } finally {
      await opened.close();
    }
  } catch {
    return null;
  }
}

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
export async function inactiveHolders(
  db: Queryable,
  limit: number,
): Promise<{ readonly rows: InactiveHolderDecision[]; readonly total: number }> {
  // Handled ones (`audit resolve`) no longer need a person.
  const where = `${INACTIVE_HOLDER} AND handled_at IS NULL`;
  const { total } = await db.get(
    `SELECT CAST(count(*) AS INTEGER) AS total FROM decisions WHERE ${where}`,
  ) as { total: number };
  const rows = await db.all(
    `
    SELECT received_at, original_login, final_login, outcome, holder_status, holder_okta_user_id
    FROM decisions WHERE ${where} ORDER BY received_at DESC, event_id DESC LIMIT ?`,
    [limit],
  ) as unknown as InactiveHolderDecision[];
  return { rows, total };
}

/** A link or conflict judged by `PERSON_ATTRIBUTE` to be a wrong link or a person returning. */
export interface JudgedDecision {
  readonly received_at: string;
  readonly action: string | null;
  readonly original_login: string | null;
  readonly final_login: string | null;
  readonly outcome: string;
  readonly person: string | null;
  readonly holder_person: string | null;
  readonly person_match: string;
  readonly person_action: string | null;
  readonly holder_okta_user_id: string | null;
}

/**
 * Decisions judged by `PERSON_ATTRIBUTE` to be a wrong link (`different`) or a person returning
 * (`same`), newest first: the newest `limit`, and how many there are.
 */
export async function personJudgements(
  db: Queryable,
  limit: number,
): Promise<{ readonly rows: JudgedDecision[]; readonly total: number }> {
  const where = "person_match IN ('same', 'different') AND handled_at IS NULL";
  const { total } = await db.get(
    `SELECT CAST(count(*) AS INTEGER) AS total FROM decisions WHERE ${where}`,
  ) as { total: number };
  const rows = await db.all(
    `
    SELECT received_at, action, original_login, final_login, outcome, person, holder_person,
           person_match, person_action, holder_okta_user_id
    FROM decisions WHERE ${where} ORDER BY received_at DESC, event_id DESC LIMIT ?`,
    [limit],
  ) as unknown as JudgedDecision[];
  return { rows, total };
}

/** Hook reservations released by `sync --release-unconfirmed-after`: how many, the last when. */
export async function releaseCounts(
  db: Queryable,
): Promise<{ count: number; last_at: string | null }> {
  return await db.get(
    "SELECT CAST(count(*) AS INTEGER) AS count, max(released_at) AS last_at FROM releases",
  ) as { count: number; last_at: string | null };
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
  // The rest of the row, for exports: every column of the table.
  readonly owner: string;
  readonly owner_source: string | null;
  readonly owner_attribute: string | null;
  readonly response: string | null;
  readonly holder_okta_user_id: string | null;
  readonly fingerprint: string;
  readonly person: string | null;
  readonly holder_person: string | null;
  readonly person_match: string | null;
  readonly person_action: string | null;
  /** Who marked it handled (`audit resolve`), when and why; `null` while open. */
  readonly handled_at: string | null;
  readonly handled_by: string | null;
  readonly handled_note: string | null;
}

/** Which decisions to list; every field narrows. */
export interface DecisionFilter {
  readonly jobId?: string | undefined;
  /** Text contained in the original or final login, compared ignoring case. */
  readonly login?: string | undefined;
  readonly outcome?: Outcome | undefined;
  /** ISO timestamp: only decisions received at or after it. */
  readonly since?: string | undefined;
  /** Only decisions that need a person and are not handled yet. */
  readonly open?: boolean | undefined;
  /** Most rows returned; `undefined` for all. */
  readonly limit?: number | undefined;
}

/** Matching decisions, newest first, and how many match in all. */
export async function listDecisions(
  db: Queryable,
  filter: DecisionFilter,
): Promise<{ readonly rows: DecisionRow[]; readonly total: number }> {
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  if (filter.jobId !== undefined) {
    conditions.push("job_id = ?");
    params.push(filter.jobId);
  }
  if (filter.login !== undefined) {
    // lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
    conditions.push(
      "(lower(original_login) LIKE ? ESCAPE '\\' OR lower(final_login) LIKE ? ESCAPE '\\')",
    );
    const pattern = `%${filter.login.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
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
  if (filter.open) conditions.push(`${NEEDS_A_PERSON} AND handled_at IS NULL`);
  const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
  const { total } = await db.get(
    `SELECT CAST(count(*) AS INTEGER) AS total FROM decisions ${where}`,
    params,
  ) as { total: number };
  const limit = filter.limit === undefined ? "" : "LIMIT ?";
  const rows = await db.all(
    `
    SELECT received_at, event_id, job_id, app_id, external_id, action, original_login,
           final_login, outcome, strategy, reused, reason, status, duration_ms, holder_status,
           owner, owner_source, owner_attribute, response, holder_okta_user_id, fingerprint,
           person, holder_person, person_match, person_action, handled_at, handled_by, handled_note
    FROM decisions ${where}
    ORDER BY received_at DESC, event_id DESC
    ${limit}`,
    filter.limit === undefined ? params : [...params, filter.limit],
  ) as unknown as DecisionRow[];
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
export async function pruneAudit(
  db: Queryable,
  before: string,
  options: { readonly dryRun?: boolean; readonly batchRows?: number } = {},
): Promise<PruneCounts> {
  const counts = { decisions: 0, rejections: 0 };
  // A row's physical id: small batches by it, on either engine.
  const id = db.engine === "sqlite" ? "rowid" : "ctid";
  for (const table of ["decisions", "rejections"] as const) {
    if (options.dryRun) {
      const row = await db.get(
        `SELECT CAST(count(*) AS INTEGER) AS n FROM ${table} WHERE received_at < ?`,
        [before],
      ) as { n: number };
      counts[table] = row.n;
      continue;
    }
    const batch = options.batchRows ?? PRUNE_BATCH_ROWS;
    // On a full disk the WAL's own space is what the deletes can write into.
    db.truncateWal?.();
    for (;;) {
      const removed = await db.transaction((tx) =>
        tx.run(
          `DELETE FROM ${table} WHERE ${id} IN
             (SELECT ${id} FROM ${table} WHERE received_at < ? LIMIT ?)`,
          [before, batch],
        )
      );
      db.truncateWal?.();
      counts[table] += removed;
      if (removed < batch) break;
    }
  }
  return counts;
}
