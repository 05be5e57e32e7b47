import assert from "node:assert/strict";
import { type DecisionRow, fingerprintOf, priorDecision } from "./fingerprint.ts";

const ROW: DecisionRow = {
  outcome: "resolved",
  strategy: "middle_name",
  status: 200,
  response: '{"commands":[]}',
  fingerprint: fingerprintOf('["CREATE_USER","a@x.com"]'),
};

Deno.test("fingerprintOf() is 22 base64url characters, the same for the same inputs and not for others", () => {
  const a = fingerprintOf('["CREATE_USER","a@x.com"]');
  assert.match(a, /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(fingerprintOf('["CREATE_USER","b@x.com"]'), a);
  // Asked again after other inputs: the same answer, not a stale one.
  assert.equal(fingerprintOf('["CREATE_USER","a@x.com"]'), a);
  // SHA-256 of the empty text, base64url, cut to 22 characters.
  assert.equal(fingerprintOf(""), "47DEQpj8HBSa-_TImW-5JC");
});

Deno.test("priorDecision() replays the same inputs and a decision from before fingerprints, and only those", () => {
  assert.equal(priorDecision(undefined, ROW.fingerprint), undefined);
  assert.deepEqual(priorDecision(ROW, ROW.fingerprint), {
    sameInputs: true,
    decision: {
      outcome: "resolved",
      strategy: "middle_name",
      reply: { status: 200, body: '{"commands":[]}' },
    },
  });
  assert.deepEqual(priorDecision(ROW, fingerprintOf("other")), { sameInputs: false });
  assert.equal(
    priorDecision({ ...ROW, fingerprint: "" }, fingerprintOf("other"))?.sameInputs,
    true,
  );
});
