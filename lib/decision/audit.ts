/**
 * The audit tables admins query: `decisions` (one row per eventId, with the exact reply sent) and
 * `rejections` (requests refused before a decision: never the secret or the body).
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Reply } from "./okta_response.ts";
import type { OwnerSource } from "./owner.ts";

/** One `decisions` row. */
export interface DecisionRecord {
  readonly eventId: string;
  readonly receivedAt: string;
  readonly jobId: string | null;
  readonly appId: string | null;
  readonly externalId: string | null;
  readonly owner: string;
  /** Where the owner came from: the owner attribute, `data.appUser.id`, or the event itself. */
  readonly ownerSource: OwnerSource;
  readonly action: string | null;
  readonly originalLogin: string | null;
  readonly finalLogin: string | null;
  readonly outcome: "unchanged" | "resolved" | "unresolved" | "skipped";
  readonly strategy: string | null;
  readonly reused: boolean;
  readonly reason: string | null;
  readonly reply: Reply;
  readonly durationMs: number;
  /** The Okta status of the account holding the conflicting login, when a sync saw it. */
  readonly holderStatus?: string | null;
  readonly holderOktaUserId?: string | null;
}

/** One `rejections` row: one refusal, or (`count` > 1) several of one kind in one minute. */
export interface RejectionRecord {
  readonly receivedAt: string;
  /** Refusals this row stands for (1 unless aggregated). */
  readonly count?: number;
  /** When the last of them was received (aggregated rows only). */
  readonly lastAt?: string;
  readonly status: number;
  readonly reason: string;
  readonly remoteAddr: string | null;
  readonly method: string;
  readonly path: string;
  readonly eventId: string | null;
}

/** A stored decision, as a replay needs it. */
export interface StoredDecision {
  readonly outcome: DecisionRecord["outcome"];
  readonly strategy: string | null;
  readonly reply: Reply;
}

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
