/**
 * The audit tables admins query, on SQLite: `decisions` (one row per eventId, with the exact reply
 * sent) and `rejections` (requests refused before a decision: never the secret or the body).
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { DecisionRecord, PriorDecision, RejectionRecord } from "../decision/records.ts";
import { type DecisionRow, fingerprintOf, priorDecision } from "./fingerprint.ts";

/** Writes and reads the audit tables. */
export class AuditLog {
  readonly #find: StatementSync;
  readonly #insertDecision: StatementSync;
  readonly #insertRejection: StatementSync;

  /** Prepares the statements on an open, migrated database. */
  constructor(db: DatabaseSync) {
    // The row made from these inputs first, then a row from before fingerprints; any other row
    // only says that other inputs were decided under this eventId.
    this.#find = db.prepare(
      `SELECT outcome, strategy, status, response, fingerprint FROM decisions WHERE event_id = ?
       ORDER BY fingerprint = ? DESC, fingerprint = '' DESC LIMIT 1`,
    );
    this.#insertDecision = db.prepare(`INSERT INTO decisions
      (event_id, received_at, job_id, app_id, external_id, owner, action, original_login,
       final_login, outcome, strategy, reused, reason, status, response, duration_ms,
       owner_source, holder_status, holder_okta_user_id, owner_attribute, fingerprint,
       person, holder_person, person_match, person_action)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#insertRejection = db.prepare(`INSERT INTO rejections
      (received_at, status, reason, remote_addr, method, path, event_id, count, last_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  /** What was decided for `eventId`: from these `inputs`, or only from others; or nothing. */
  findDecision(eventId: string, inputs: string): PriorDecision | undefined {
    const fingerprint = fingerprintOf(inputs);
    return priorDecision(
      this.#find.get(eventId, fingerprint) as DecisionRow | undefined,
      fingerprint,
    );
  }

  /** Adds a decision row; throws if `eventId` already has one from the same inputs. */
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
      d.ownerAttribute ?? null,
      fingerprintOf(d.inputs),
      d.person?.incoming ?? null,
      d.person?.holder ?? null,
      d.person?.match ?? null,
      d.person?.action ?? null,
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
