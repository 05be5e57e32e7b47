/**
 * Audit rows with fixed times for the audit tests: two import jobs, one refused request, and the
 * login reservations those decisions made.
 */

import type { DatabaseSync } from "node:sqlite";
import { AuditLog } from "../lib/store/sqlite_audit.ts";
import type { DecisionRecord, RejectionRecord } from "../lib/decision/records.ts";
import { LoginIndex } from "../lib/store/sqlite_login_index.ts";
import type { Reservation } from "../lib/decision/records.ts";

type Row = Pick<
  DecisionRecord,
  "eventId" | "receivedAt" | "jobId" | "originalLogin" | "finalLogin" | "outcome" | "strategy"
>;

/** The decisions {@link addAuditRows} writes. */
export const AUDIT_ROWS: readonly Row[] = [
  {
    eventId: "evt-old",
    receivedAt: "2025-11-01T01:00:00.000Z",
    jobId: "ijOld",
    originalLogin: "ann.lee@ridgeline.example",
    finalLogin: "ann.lee@ridgeline.example",
    outcome: "unchanged",
    strategy: null,
  },
  {
    eventId: "evt-1",
    receivedAt: "2026-03-02T01:00:00.000Z",
    jobId: "ijNight",
    originalLogin: "george.smith@ridgeline.example",
    finalLogin: "george.smith@ridgeline.example",
    outcome: "unchanged",
    strategy: null,
  },
  {
    eventId: "evt-2",
    receivedAt: "2026-03-02T01:00:01.250Z",
    jobId: "ijNight",
    originalLogin: "george.smith@ridgeline.example",
    finalLogin: "george.alexander.smith@ridgeline.example",
    outcome: "resolved",
    strategy: "middle_name",
  },
  {
    eventId: "evt-3",
    receivedAt: "2026-03-02T01:00:02.000Z",
    jobId: "ijNight",
    originalLogin: "kim.ro@ridgeline.example",
    finalLogin: null,
    outcome: "unresolved",
    strategy: null,
  },
];

/** The rows {@link addAuditRows} writes: the decisions, a 401 rejection and a reservation. */
export function auditRecords(): {
  decisions: DecisionRecord[];
  rejection: RejectionRecord;
  reservation: Reservation;
} {
  return {
    decisions: AUDIT_ROWS.map((row, i) => ({
      ...row,
      appId: "0oaCsvApp",
      externalId: `RL-${i}`,
      owner: JSON.stringify(["0oaCsvApp", "externalId", `RL-${i}`]),
      ownerSource: "attribute",
      action: "CREATE_USER",
      reused: false,
      reason: row.outcome === "resolved" ? "Okta reported the login taken" : null,
      reply: { status: row.outcome === "resolved" ? 200 : 204, body: null },
      durationMs: 1.5,
      inputs: JSON.stringify([row.eventId]),
    })),
    rejection: {
      receivedAt: "2025-11-01T00:59:00.000Z",
      status: 401,
      reason: "Missing Authorization header",
      remoteAddr: "192.0.2.1",
      method: "POST",
      path: "/hooks/import",
      eventId: null,
    },
    reservation: {
      login: "ann.lee@ridgeline.example",
      owner: JSON.stringify(["0oaCsvApp", "externalId", "RL-0"]),
      requestedKey: "ann.lee@ridgeline.example",
      strategy: "unchanged",
      source: "hook",
      eventId: "evt-old",
      at: "2025-11-01T01:00:00.000Z",
    },
  };
}

/** Writes {@link auditRecords} into a migrated SQLite database. */
export function addAuditRows(db: DatabaseSync): void {
  const audit = new AuditLog(db);
  const records = auditRecords();
  for (const d of records.decisions) audit.recordDecision(d);
  audit.recordRejection(records.rejection);
  new LoginIndex(db).reserve(records.reservation);
}
