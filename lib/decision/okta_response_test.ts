import assert from "node:assert/strict";
import { cause, errorReply, PROFILE_UPDATE, resolutionReply } from "./okta_response.ts";

Deno.test("resolutionReply() answers an unchanged or skipped user with 204 and no body", () => {
  assert.deepEqual(resolutionReply({ outcome: "unchanged", login: "a@x.com", reused: false }), {
    status: 204,
    body: null,
  });
  assert.deepEqual(resolutionReply({ outcome: "skipped", reason: "LINK_USER" }), {
    status: 204,
    body: null,
  });
});

/** George, resolved by his middle name. */
const RESOLVED = {
  outcome: "resolved",
  original: "george.smith@example.com",
  login: "george.alexander.smith@example.com",
  strategy: "middle_name",
  reused: false,
  reason: "Okta reported the login taken",
  holder: null,
} as const;

Deno.test("resolutionReply() sets the new login with one profile update command", () => {
  const reply = resolutionReply(RESOLVED);
  assert.equal(reply.status, 200);
  assert.deepEqual(JSON.parse(reply.body!), {
    commands: [{ type: PROFILE_UPDATE, value: { login: "george.alexander.smith@example.com" } }],
    debugContext: { outcome: "resolved", strategy: "middle_name" },
  });
});

Deno.test("resolutionReply() answers an unresolved conflict with Okta's error object, one cause per strategy", () => {
  const reply = resolutionReply({
    outcome: "unresolved",
    original: "gsmith@example.com",
    reason: "Okta reported the login taken",
    problems: [{
      strategy: "middle_name",
      reason: "MISSING_MIDDLE_NAME",
      summary: "No middle name in the app user or Okta user profile",
    }],
    holder: null,
  });
  assert.equal(reply.status, 200);
  const body = JSON.parse(reply.body!);
  assert.match(body.error.errorSummary, /^Could not derive a unique login .*okta reported/);
  assert.deepEqual(body.error.errorCauses, [
    cause(
      "No middle name in the app user or Okta user profile",
      "MISSING_MIDDLE_NAME",
      "data.user.profile.login",
    ),
  ]);
});

Deno.test("errorReply() leaves out errorCauses when there are none", () => {
  assert.deepEqual(JSON.parse(errorReply(404, "No route").body!), {
    error: { errorSummary: "No route" },
  });
});

Deno.test("resolutionReply() links a returning person with Okta's documented two commands, the action first", () => {
  const person = {
    match: "same" as const,
    incoming: "N-100",
    holder: "N-100",
    holderOktaUserId: "00uPatOld",
    action: "linked" as const,
  };
  const reply = resolutionReply({
    outcome: "linked",
    original: "pat.doe@example.com",
    oktaUserId: "00uPatOld",
    holder: null,
    person,
  });
  assert.equal(reply.status, 200);
  // The commands of Okta's published link example (import hook reference, "action update: link
  // user", and the management spec's UserImportMatchExample), in their order.
  assert.deepEqual(JSON.parse(reply.body!).commands, [
    { type: "com.okta.action.update", value: { result: "LINK_USER" } },
    { type: "com.okta.user.update", value: { id: "00uPatOld" } },
  ]);
});

Deno.test("resolutionReply() turns a refused link into a create, then sets the login", () => {
  const reply = resolutionReply({
    ...RESOLVED,
    person: {
      match: "different",
      incoming: "N-999",
      holder: "N-200",
      holderOktaUserId: "00uLee",
      action: "refused_link",
    },
  });
  assert.deepEqual(JSON.parse(reply.body!).commands, [
    { type: "com.okta.action.update", value: { result: "CREATE_USER" } },
    { type: PROFILE_UPDATE, value: { login: "george.alexander.smith@example.com" } },
  ]);
});
