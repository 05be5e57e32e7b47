/**
 * Decisions that need a person, and marking them handled (`audit resolve`): an unresolved
 * decision, one `PERSON_ATTRIBUTE` judged a wrong link or a person returning, or one whose login
 * is held by a deactivated or suspended account. Handling keeps the row and adds who, when and
 * why; the summary then counts only what is still open.
 */

import type { Queryable } from "./queryable.ts";

/** Okta statuses of a holder who may be the imported person returning. */
export const INACTIVE_STATUSES = ["DEPROVISIONED", "SUSPENDED"] as const;

/** SQL: the login was held by a deactivated or suspended account. */
export const INACTIVE_HOLDER = `holder_status IN (${
  INACTIVE_STATUSES.map((s) => `'${s}'`).join(", ")
})`;

/** SQL: the decision needs a person. */
export const NEEDS_A_PERSON = `(outcome = 'unresolved' OR person_match IN ('same', 'different')
  OR ${INACTIVE_HOLDER})`;

/** Who marked a decision handled, when and why. */
export interface Handling {
  /** ISO timestamp. */
  readonly at: string;
  readonly by: string;
  readonly note: string;
}

/** A decision of the event id given, as `audit resolve` found it. */
export interface EventDecision {
  readonly received_at: string;
  readonly outcome: string;
  readonly original_login: string | null;
  readonly needs_a_person: number;
  readonly handled_at: string | null;
  readonly handled_by: string | null;
}

/** What `markHandled` did: how many it marked, and every decision of that event id. */
export interface Marked {
  readonly marked: number;
  readonly decisions: readonly EventDecision[];
}

/**
 * Marks every open decision of `eventId` that needs a person as handled, in one transaction.
 * Decisions that need no person, or were handled before, are left as they are.
 */
export async function markHandled(
  db: Queryable,
  eventId: string,
  handling: Handling,
): Promise<Marked> {
  return await db.transaction(async (tx) => {
    const decisions = await tx.all(
      `SELECT received_at, outcome, original_login,
              CASE WHEN ${NEEDS_A_PERSON} THEN 1 ELSE 0 END AS needs_a_person,
              handled_at, handled_by
       FROM decisions WHERE event_id = ? ORDER BY received_at`,
      [eventId],
    ) as unknown as EventDecision[];
    const marked = await tx.run(
      `UPDATE decisions SET handled_at = ?, handled_by = ?, handled_note = ?
       WHERE event_id = ? AND handled_at IS NULL AND ${NEEDS_A_PERSON}`,
      [handling.at, handling.by, handling.note, eventId],
    );
    return { marked, decisions };
  });
}

/** Decisions needing a person: still open, and handled. */
export interface OpenCounts {
  readonly unresolved: number;
  readonly handled: number;
}

/** How many unresolved decisions are still open, and how many decisions were handled. */
export async function openCounts(db: Queryable): Promise<OpenCounts> {
  return await db.get(`SELECT
      CAST(count(*) FILTER (WHERE outcome = 'unresolved' AND handled_at IS NULL) AS INTEGER)
        AS unresolved,
      CAST(count(*) FILTER (WHERE handled_at IS NOT NULL) AS INTEGER) AS handled
    FROM decisions`) as unknown as OpenCounts;
}
