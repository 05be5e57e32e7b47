import assert from "node:assert/strict";
import { type EventAttributes, readHookEvent } from "./hook_event.ts";
import { parseHookRequest } from "./hook_schema.ts";
import { fixture, type HookBody, withDatabase } from "../../tests/_test_utils.ts";

const ATTRIBUTES: EventAttributes = {
  ownerAttributes: ["employeeId"],
  middleNameAttribute: "middleName",
};
const APP = "0oay4R1bMQCPua2KlzFi";

/** Reads the event out of `body` sent as JSON text, as the service does. */
function read(body: HookBody, attributes: EventAttributes = ATTRIBUTES) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const parsed = parseHookRequest(text);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  const result = readHookEvent(parsed.value, attributes);
  assert.ok(result.ok, JSON.stringify(result));
  return result.event;
}

/** The problems readHookEvent() finds in `body`, as [location, summary] pairs. */
function problems(body: HookBody, attributes: EventAttributes = ATTRIBUTES) {
  const parsed = parseHookRequest(JSON.stringify(body));
  assert.ok(parsed.ok, JSON.stringify(parsed));
  const result = readHookEvent(parsed.value, attributes);
  assert.equal(result.ok, false);
  return result.ok ? [] : result.problems.map((p) => [p.location, p.summary]);
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
    ownerAttribute: "employeeId",
    middleName: "Everett",
    oktaUserId: null,
    person: null,
  });
});

Deno.test("readHookEvent() takes the first owner attribute present: Okta's published sample owns by externalId", () => {
  const attributes = {
    ownerAttributes: ["employeeId", "externalId", "employeeNumber"],
    middleNameAttribute: "middleName",
  };
  const sample = fixture("okta-reference-sample.json");
  const event = read(sample, attributes);
  assert.equal(event.ownerSource, "attribute");
  assert.equal(event.ownerAttribute, "externalId");
  assert.equal(event.owner, JSON.stringify(["0oa7ey7aLRuBvcYUD0g4", "externalId", "user221"]));
  // With both present the earlier one wins, whatever the order in the profile.
  sample.data.appUser.profile.employeeNumber = "N-7";
  sample.data.appUser.profile.employeeId = "E-7";
  assert.equal(read(sample, attributes).ownerAttribute, "employeeId");
  // With none present, the app user id, then the event.
  for (const name of ["employeeId", "externalId", "employeeNumber"]) {
    delete sample.data.appUser.profile[name];
  }
  assert.deepEqual(
    [read(sample, attributes).ownerSource, read(sample, attributes).ownerAttribute],
    [
      "event",
      null,
    ],
  );
});

Deno.test("readHookEvent() reads the owner from the configured attribute", () => {
  const body = fixture("01-create-user-no-conflict.json");
  body.data.appUser.profile.externalId = " ext-9 ";
  const event = read(body, { ownerAttributes: ["externalId"], middleNameAttribute: "middleName" });
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
  const result = readHookEvent(parsed.value, ATTRIBUTES);
  assert.ok(result.ok);
  const { event } = result;
  assert.equal(event.middleName, null);
  assert.equal(event.ownerSource, "event");
  assert.equal(event.externalId, null);
  assert.equal(event.login, "priya.natarajan@ridgeline.example");
  // An attribute literally named __proto__ is read as an own key, and an object is no owner.
  const own = read(text, { ownerAttributes: ["__proto__"], middleNameAttribute: "__proto__" });
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
  const event = read(body, { ownerAttributes: ["employeeId"], middleNameAttribute: "secondName" });
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

Deno.test("readHookEvent() refuses a NUL or other control character in a login or an id", () => {
  const body = fixture("01-create-user-no-conflict.json");
  body.data.user.profile.login = "abc.def@nul.example\u0000zzz";
  body.data.appUser.profile.employeeId = "E\u001b1";
  assert.deepEqual(problems(body), [
    ["data.user.profile.login", "Holds a control character"],
    ["data.appUser.profile.employeeId", "Holds a control character"],
  ]);
});

Deno.test("readHookEvent() refuses lone surrogates in the eventId, the job and the middle name", () => {
  const body = fixture("01-create-user-no-conflict.json");
  body.eventId = "s\ud83d";
  body.data.context.job.id = "\udc00job";
  body.data.appUser.profile.middleName = "Al\ud800";
  assert.deepEqual(problems(body), [
    ["eventId", "Holds a lone surrogate: not well-formed Unicode"],
    ["data.context.job.id", "Holds a lone surrogate: not well-formed Unicode"],
    ["data.appUser.profile.middleName", "Holds a lone surrogate: not well-formed Unicode"],
  ]);
});

Deno.test("readHookEvent() refuses a login longer than Okta's 100 characters", () => {
  const body = fixture("01-create-user-no-conflict.json");
  body.data.user.profile.login = `${"a".repeat(90)}@example.com`;
  assert.deepEqual(problems(body), [["data.user.profile.login", "Longer than 100 characters"]]);
});

Deno.test("readHookEvent() accepts astral letters, accents and right-to-left text", () => {
  const body = fixture("01-create-user-no-conflict.json");
  body.data.user.profile.login = "𝒵oë.שלום@example.com";
  body.data.appUser.profile.employeeId = "😀-E1";
  assert.equal(read(body).login, "𝒵oë.שלום@example.com");
});

/** A small deterministic PRNG (mulberry32), so a failing case can be run again. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Code units an attacker would reach for: controls, NUL, surrogates of both halves, combining
// marks, the BOM, noncharacters, separators, and plain letters.
const UNITS = [
  0x00,
  0x01,
  0x09,
  0x0a,
  0x1f,
  0x20,
  0x41,
  0x61,
  0x7f,
  0x85,
  0xa0,
  0xe9,
  0x301,
  0x2028,
  0x200d,
  0xd800,
  0xd83d,
  0xdbff,
  0xdc00,
  0xde00,
  0xdfff,
  0xfeff,
  0xfffd,
  0xfffe,
  0xffff,
  0x5d0,
  0x4e2d,
];

Deno.test("every string readHookEvent() accepts reads back from SQLite identical to what was compared", async () => {
  const next = random(20261202);
  await withDatabase("text-", (db) => {
    db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
    const put = db.prepare("INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)");
    const get = db.prepare("SELECT v FROM t WHERE k = ?");
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const length = 1 + Math.floor(next() * 12);
      const text = String.fromCharCode(
        ...Array.from({ length }, () => UNITS[Math.floor(next() * UNITS.length)]!),
      );
      const body = fixture("01-create-user-no-conflict.json");
      body.eventId = text;
      body.data.appUser.profile.employeeId = text;
      const parsed = parseHookRequest(JSON.stringify(body));
      if (!parsed.ok) continue;
      const result = readHookEvent(parsed.value, ATTRIBUTES);
      if (!result.ok) continue;
      accepted++;
      const { eventId, owner } = result.event;
      put.run(eventId, owner);
      const row = get.get(eventId) as { v: string } | undefined;
      assert.equal(row?.v, owner, `owner of ${JSON.stringify(eventId)} read back changed`);
      const keys = db.prepare("SELECT k FROM t WHERE k = ?").get(eventId) as { k: string };
      assert.equal(keys.k, eventId, `eventId ${JSON.stringify(eventId)} read back changed`);
    }
    assert.ok(accepted > 100, `only ${accepted} generated strings were accepted`);
  });
});
