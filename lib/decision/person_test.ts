import assert from "node:assert/strict";
import { judgement, personMatch } from "./person.ts";

Deno.test("personMatch() is unverified unless both values are known, and compares them trimmed and case-insensitively", () => {
  assert.equal(personMatch(null, "N-1"), "unverified");
  assert.equal(personMatch("N-1", null), "unverified");
  assert.equal(personMatch(" n-1", "N-1 "), "same");
  assert.equal(personMatch("N-1", "N-2"), "different");
});

Deno.test("judgement() records both values, the holder's Okta id and what was done", () => {
  assert.deepEqual(judgement("N-1", { person: "N-2", oktaUserId: "00u2" }, "refused_link"), {
    match: "different",
    incoming: "N-1",
    holder: "N-2",
    holderOktaUserId: "00u2",
    action: "refused_link",
  });
  assert.deepEqual(judgement("N-1", undefined, null), {
    match: "unverified",
    incoming: "N-1",
    holder: null,
    holderOktaUserId: null,
    action: null,
  });
});
