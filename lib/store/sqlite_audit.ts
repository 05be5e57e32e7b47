/**
 * The audit tables admins query, on SQLite: `decisions` (one row per eventId, with the exact reply
 * sent) and `rejections` (requests refused before a decision: never the secret or the body).
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { DecisionRecord, RejectionRecord, StoredDecision } from "../decision/records.ts";

/** Writes and reads the audit tables. */
export class AuditLog {
  readonly #find: StatementSync;
  readonly #insertDecision: StatementSync;
  readonly #insertRejection: StatementSync;

  /** Prepares the statements on an open, migrated database. */
  constructor(db: DatabaseSync) {
    this.#find = db.prepare(
      "SELECT outcome, strategy, status, response FROM decisions WHERE event_id = ?",
    );
    this.#insertDecision = db.prepare(`INSERT INTO decisions
      (event_id, received_at, job_id, app_id, external_id, owner, action, original_login,
       final_login, outcome, strategy, reused, reason, status, response, duration_ms,
       owner_source, holder_status, holder_okta_user_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#insertRejection = db.prepare(`INSERT INTO rejections
      (received_at, status, reason, remote_addr, method, path, event_id, count, last_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  /** The decision already made for `eventId`, if any. */
  findDecision(eventId: string): StoredDecision | undefined {
    const row = this.#find.get(eventId) as
      | {
        outcome: StoredDecision["outcome"];
        strategy: string | null;
        status: number;
        response: string | null;
      }
      | undefined;
    return row && {
      outcome: row.outcome,
      strategy: row.strategy,
      reply: { status: row.status, body: row.response },
    };
  }

  /** Adds a decision row; throws if `eventId` already has one. */
  recordDecision(d: DecisionRecord): void {
    this.#insertDecision.run(
      d.eventId,
      d.receivedAt,
      d.jobId,
      d.appId,
      d.externalId,
      d.owner,
      d.action,
      d.originalLogin,
      d.finalLogin,
      d.outcome,
      d.strategy,
      d.reused ? 1 : 0,
      d.reason,
      d.reply.status,
      d.reply.body,
      Math.round(d.durationMs * 1000) / 1000,
      d.ownerSource,
      d.holderStatus ?? null,
      d.holderOktaUserId ?? null,
    );
  }

  /** Adds a rejection row. */
  recordRejection(r: RejectionRecord): void {
    this.#insertRejection.run(
      r.receivedAt,
      r.status,
      r.reason,
      r.remoteAddr,
      r.method,
      r.path,
      r.eventId,
      r.count ?? 1,
      r.lastAt ?? null,
    );
  }
}
