import assert from "node:assert/strict";
import { AuditLog } from "./sqlite_audit.ts";
import { decisionRecord, withDatabase } from "../../tests/_test_utils.ts";

const decision = decisionRecord;

Deno.test("AuditLog finds a recorded decision's outcome and exact reply by eventId", async () => {
  await withDatabase("audit-", (db) => {
    const audit = new AuditLog(db);
    const inputs = decision("evt-1").inputs;
    assert.equal(audit.findDecision("evt-1", inputs), undefined);
    const body = JSON.stringify({ commands: [] });
    audit.recordDecision(decision("evt-1", { outcome: "resolved", reply: { status: 200, body } }));
    assert.deepEqual(audit.findDecision("evt-1", inputs), {
      sameInputs: true,
      decision: { outcome: "resolved", strategy: null, reply: { status: 200, body } },
    });
    // The same eventId with other inputs is not that decision.
    assert.deepEqual(audit.findDecision("evt-1", '["CREATE_USER","b@x.com"]'), {
      sameInputs: false,
    });
    const row = db.prepare("SELECT duration_ms, reused FROM decisions").get();
    assert.deepEqual({ ...row }, { duration_ms: 1.235, reused: 0 });
  });
});

Deno.test("AuditLog refuses a second decision for one eventId and inputs, and keeps one per inputs", async () => {
  await withDatabase("audit-", (db) => {
    const audit = new AuditLog(db);
    audit.recordDecision(decision("evt-1"));
    assert.throws(() => audit.recordDecision(decision("evt-1")), /UNIQUE|PRIMARY/);
    const other = '["CREATE_USER","b@x.com"]';
    audit.recordDecision(decision("evt-1", { inputs: other, outcome: "resolved" }));
    const found = audit.findDecision("evt-1", other);
    assert.equal(found?.sameInputs && found.decision.outcome, "resolved");
  });
});

Deno.test("AuditLog takes a decision from before fingerprints as matching any inputs", async () => {
  await withDatabase("audit-", (db) => {
    const audit = new AuditLog(db);
    audit.recordDecision(decision("evt-1"));
    db.exec("UPDATE decisions SET fingerprint = ''");
    assert.equal(audit.findDecision("evt-1", '["anything"]')?.sameInputs, true);
  });
});

Deno.test("AuditLog records a rejection with its reason and remote address", async () => {
  await withDatabase("audit-", (db) => {
    new AuditLog(db).recordRejection({
      receivedAt: "2026-03-02T08:00:00.000Z",
      status: 401,
      reason: "Missing Authorization header",
      remoteAddr: "203.0.113.9",
      method: "POST",
      path: "/hooks/import",
      eventId: null,
    });
    const row = db.prepare("SELECT status, reason, remote_addr, event_id FROM rejections").get();
    assert.deepEqual({ ...row }, {
      status: 401,
      reason: "Missing Authorization header",
      remote_addr: "203.0.113.9",
      event_id: null,
    });
  });
});
