import assert from "node:assert/strict";
import { type EventAttributes, readHookEvent } from "./hook_event.ts";
import { parseHookRequest } from "./hook_schema.ts";
import { fixture, type HookBody } from "../../tests/_test_utils.ts";

const ATTRIBUTES: EventAttributes = {
  ownerAttribute: "employeeId",
  middleNameAttribute: "middleName",
};
const APP = "0oay4R1bMQCPua2KlzFi";

/** Reads the event out of `body` sent as JSON text, as the service does. */
function read(body: HookBody, attributes: EventAttributes = ATTRIBUTES) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const parsed = parseHookRequest(text);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return readHookEvent(parsed.value, attributes);
}

Deno.test("readHookEvent() reads every fact of a CREATE_USER request", () => {
  const body = fixture("02-login-conflict-middlename-in-appuser.json");
  assert.equal(body.data.context.application.id, APP);
  assert.deepEqual(read(body), {
    eventId: "pmkNRAeatwULeU3h3Eyatz",
    jobId: "ij1EImFDAchMSo3XPUGh",
    appId: APP,
    action: "CREATE_USER",
    login: "tobias.whitfield@ridgeline.example",
    oktaReportsConflict: true,
    owner: JSON.stringify([APP, "employeeId", "RL-004502"]),
    externalId: "RL-004502",
    ownerSource: "attribute",
    middleName: "Everett",
    oktaUserId: null,
  });
});

Deno.test("readHookEvent() reads the owner from the configured attribute", () => {
  const body = fixture("01-create-user-no-conflict.json");
  body.data.appUser.profile.externalId = " ext-9 ";
  const event = read(body, { ownerAttribute: "externalId", middleNameAttribute: "middleName" });
  assert.equal(event.owner, JSON.stringify([APP, "externalId", "ext-9"]));
  assert.equal(event.externalId, "ext-9");
  assert.equal(event.ownerSource, "attribute");
  assert.equal(event.oktaReportsConflict, false);
});

Deno.test("readHookEvent() falls back to appUser.id when the owner attribute is absent", () => {
  const body = fixture("07-extra-unknown-fields.json");
  delete body.data.appUser.profile.employeeId;
  const event = read(body);
  assert.equal(
    event.owner,
    JSON.stringify([body.data.context.application.id, "#id", "0uaQmW2tXkY7pLcE9rNf"]),
  );
  assert.equal(event.ownerSource, "app_user_id");
  assert.equal(event.externalId, null);
});

Deno.test("readHookEvent() makes the event the owner when neither attribute nor id is there", () => {
  const body = fixture("01-create-user-no-conflict.json");
  delete body.data.appUser.profile.employeeId;
  body.data.appUser.id = "  ";
  const event = read(body);
  assert.equal(event.owner, JSON.stringify(["event", "dgPS3qsltliY_PnD5jATyo"]));
  assert.equal(event.ownerSource, "event");
  assert.equal(event.externalId, null);
});

Deno.test("readHookEvent() treats null like absent", () => {
  const body = fixture("01-create-user-no-conflict.json");
  body.data.appUser.profile.employeeId = null;
  body.data.appUser.profile.middleName = null;
  body.data.user.profile.middleName = null;
  body.data.appUser.id = null;
  body.data.context.job = null;
  body.data.context.application.id = null;
  body.data.context.conflicts = null;
  const event = read(body);
  assert.equal(event.ownerSource, "event");
  assert.equal(event.middleName, null);
  assert.equal(event.jobId, null);
  assert.equal(event.appId, null);
  assert.equal(event.oktaReportsConflict, false);
});

Deno.test("readHookEvent() reads a numeric owner or middle name as text", () => {
  const body = fixture("01-create-user-no-conflict.json");
  body.data.appUser.profile.employeeId = 4417;
  body.data.appUser.profile.middleName = 3;
  const event = read(body);
  assert.equal(event.owner, JSON.stringify([APP, "employeeId", "4417"]));
  assert.equal(event.externalId, "4417");
  assert.equal(event.middleName, "3");
});

Deno.test("readHookEvent() ignores values that are neither text nor finite numbers", () => {
  const body = fixture("01-create-user-no-conflict.json");
  body.data.appUser.profile.employeeId = true;
  body.data.appUser.profile.middleName = ["Lakshmi"];
  body.data.user.profile.middleName = { first: "L" };
  body.data.appUser.id = "0uaX";
  const event = read(body);
  assert.equal(event.ownerSource, "app_user_id");
  assert.equal(event.owner, JSON.stringify([APP, "#id", "0uaX"]));
  assert.equal(event.middleName, null);
});

Deno.test("readHookEvent() never reads a profile value through a __proto__ key", () => {
  const body = fixture("01-create-user-no-conflict.json");
  delete body.data.appUser.profile.employeeId;
  delete body.data.appUser.profile.middleName;
  delete body.data.user.profile.middleName;
  const text = JSON.stringify(body).replaceAll(
    '"profile":{',
    '"profile":{"__proto__":{"middleName":"Injected","employeeId":"x","login":"l@x.com"},',
  );
  assert.equal(text.split("__proto__").length, 3); // in both profiles
  const parsed = parseHookRequest(text);
  assert.ok(parsed.ok);
  // Even if a profile's prototype carried the values, only own keys are read.
  const inherited = { middleName: "Injected", employeeId: "x", login: "l@x.com" };
  Object.setPrototypeOf(parsed.value.data.appUser!.profile!, inherited);
  Object.setPrototypeOf(parsed.value.data.user!.profile!, inherited);
  const event = readHookEvent(parsed.value, ATTRIBUTES);
  assert.equal(event.middleName, null);
  assert.equal(event.ownerSource, "event");
  assert.equal(event.externalId, null);
  assert.equal(event.login, "priya.natarajan@ridgeline.example");
  // An attribute literally named __proto__ is read as an own key, and an object is no owner.
  const own = read(text, { ownerAttribute: "__proto__", middleNameAttribute: "__proto__" });
  assert.equal(own.ownerSource, "event");
  assert.equal(own.middleName, null);
});

Deno.test("readHookEvent() takes the middle name from the app user profile first", () => {
  const body = fixture("01-create-user-no-conflict.json");
  body.data.user.profile.middleName = "FromUser";
  assert.equal(read(body).middleName, "Lakshmi");
});

Deno.test("readHookEvent() falls back to the Okta user profile's middle name", () => {
  assert.equal(
    read(fixture("03-login-conflict-middlename-only-in-user-profile.json")).middleName,
    "Adaeze",
  );
  const blank = fixture("01-create-user-no-conflict.json");
  blank.data.appUser.profile.middleName = "  ";
  blank.data.user.profile.middleName = " Lee ";
  assert.equal(read(blank).middleName, "Lee");
});

Deno.test("readHookEvent() reads the middle name from the configured attribute", () => {
  const body = fixture("01-create-user-no-conflict.json");
  body.data.appUser.profile.secondName = "Devi";
  const event = read(body, { ownerAttribute: "employeeId", middleNameAttribute: "secondName" });
  assert.equal(event.middleName, "Devi");
});

Deno.test("readHookEvent() reads the linked Okta user of a LINK_USER request", () => {
  const event = read(fixture("05-link-user-existing-match.json"));
  assert.equal(event.action, "LINK_USER");
  assert.equal(event.oktaUserId, "00uIJ67FILGyLO3Q3Pb7");
  assert.equal(event.login, "marisol.vega@ridgeline.example");
});

Deno.test("readHookEvent() trims the login", () => {
  const body = fixture("01-create-user-no-conflict.json");
  body.data.user.profile.login = "  priya@ridgeline.example ";
  assert.equal(read(body).login, "priya@ridgeline.example");
});
