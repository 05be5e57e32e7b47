import assert from "node:assert/strict";
import { jsonPath, parseHookRequest, type ParseResult } from "./hook_schema.ts";
import { fixture, type HookBody } from "../../tests/_test_utils.ts";

const FIXTURES = [...Deno.readDirSync(new URL("../../tests/fixtures/", import.meta.url))]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith(".json"))
  .sort();

/** Parses `body` as JSON text and asserts the exact problems reported. */
function assertProblems(body: unknown, problems: [location: string, summary: string][]): void {
  const result = parseHookRequest(JSON.stringify(body));
  assert.deepEqual(result, {
    ok: false,
    summary: "Request body is not a valid import hook request",
    problems: problems.map(([location, summary]) => ({
      summary,
      reason: "INVALID_PAYLOAD",
      location,
    })),
  });
}

function valid(result: ParseResult) {
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

function base(): HookBody {
  return fixture("01-create-user-no-conflict.json");
}

Deno.test("parseHookRequest() accepts every shared fixture unchanged", () => {
  assert.equal(FIXTURES.length, 10);
  for (const name of FIXTURES) {
    const text = Deno.readTextFileSync(new URL(`../../tests/fixtures/${name}`, import.meta.url));
    assert.deepEqual(valid(parseHookRequest(text)), JSON.parse(text), name);
  }
});

Deno.test("parseHookRequest() keeps fields it does not know", () => {
  const body = fixture("07-extra-unknown-fields.json");
  const value = valid(parseHookRequest(JSON.stringify(body))) as HookBody;
  assert.equal(value.specversion, "1.0");
  assert.deepEqual(value.extensions, body.extensions);
  assert.equal(value.extensions.region, "us-west");
  assert.equal(value.data.schemaRevision, 3);
  assert.equal(value.data.appUser.status, "STAGED");
  assert.deepEqual(value.data.appUser.profile.costCenters, ["CC-110", "CC-245"]);
  assert.equal(value.data.appUser.profile.badgeNumber, 20931);
});

Deno.test("parseHookRequest() reports text that is not JSON", () => {
  assert.deepEqual(parseHookRequest(""), {
    ok: false,
    summary: "Request body is not valid JSON",
    problems: [{ summary: "The body is empty", reason: "INVALID_JSON", location: "" }],
  });
});

Deno.test("parseHookRequest() never quotes the body in a JSON syntax error", () => {
  const secretish = "george.smith@example.com-personal-data";
  const result = parseHookRequest(`{"login": "${secretish}" oops}`);
  assert.equal(result.ok, false);
  const text = JSON.stringify(result);
  assert.ok(!text.includes("george"), text);
  assert.match(text, /A JSON syntax error( at character \d+)?/);
  const cut = parseHookRequest('{"a": "b');
  assert.equal(!cut.ok && cut.problems[0]!.summary, "The JSON text ends too early");
});

Deno.test("parseHookRequest() cuts a long foreign eventType to a few dozen characters", () => {
  const result = parseHookRequest(JSON.stringify({ ...base(), eventType: "x".repeat(262_144) }));
  assert.equal(result.ok, false);
  assert.ok(JSON.stringify(result).length < 400);
});

Deno.test("parseHookRequest() reports a body that is not an object at the root", () => {
  assertProblems([], [["", "Invalid input: expected object, received array"]]);
  assertProblems(null, [["", "Invalid input: expected object, received null"]]);
});

Deno.test("parseHookRequest() reports a missing or foreign eventType", () => {
  const missing = base();
  delete missing.eventType;
  assertProblems(missing, [["eventType", "Required"]]);
  assertProblems({ ...base(), eventType: "com.okta.user.create" }, [[
    "eventType",
    'Expected "com.okta.import.transform", got "com.okta.user.create"',
  ]]);
});

Deno.test("parseHookRequest() reports a missing, empty or overlong eventId", () => {
  const missing = base();
  delete missing.eventId;
  assertProblems(missing, [["eventId", "Required"]]);
  assertProblems({ ...base(), eventId: "" }, [["eventId", "Must not be empty"]]);
  assertProblems({ ...base(), eventId: "e".repeat(201) }, [[
    "eventId",
    "Longer than 200 characters",
  ]]);
  assertProblems({ ...base(), eventId: 7 }, [[
    "eventId",
    "Invalid input: expected string, received number",
  ]]);
  assert.equal(
    valid(parseHookRequest(JSON.stringify({ ...base(), eventId: "e".repeat(200) }))).eventId.length,
    200,
  );
});

Deno.test("parseHookRequest() reports a missing data object", () => {
  const missing = base();
  delete missing.data;
  assertProblems(missing, [["data", "Required"]]);
  assertProblems({ ...base(), data: null }, [[
    "data",
    "Invalid input: expected object, received null",
  ]]);
});

Deno.test("parseHookRequest() reports each wrongly typed field by its JSON path", () => {
  const body = base();
  body.data.context.conflicts = "login";
  body.data.context.job.id = 5;
  body.data.appUser.profile = [];
  assertProblems(body, [
    ["data.context.conflicts", "Invalid input: expected array, received string"],
    ["data.context.job.id", "Invalid input: expected string, received number"],
    ["data.appUser.profile", "Invalid input: expected record, received array"],
  ]);
});

Deno.test("parseHookRequest() needs a non-empty login for CREATE_USER only", () => {
  const missing = base();
  delete missing.data.user.profile.login;
  assertProblems(missing, [[
    "data.user.profile.login",
    "Required when data.action.result is CREATE_USER",
  ]]);
  const blank = base();
  blank.data.user.profile.login = "  ";
  assertProblems(blank, [["data.user.profile.login", "Must be a non-empty string"]]);
  const numeric = base();
  numeric.data.user.profile.login = 42;
  assertProblems(numeric, [["data.user.profile.login", "Must be a non-empty string"]]);
  const link = base();
  link.data.action.result = "LINK_USER";
  delete link.data.user.profile.login;
  assert.equal(valid(parseHookRequest(JSON.stringify(link))).data.action?.result, "LINK_USER");
});

Deno.test("parseHookRequest() accepts null for every optional object", () => {
  const body = base();
  body.eventTime = null;
  body.data.context = null;
  body.data.appUser = null;
  body.data.action = null;
  const value = valid(parseHookRequest(JSON.stringify(body)));
  assert.equal(value.data.context, null);
  assert.equal(value.data.action, null);
});

Deno.test("jsonPath() joins names with dots and indexes with brackets", () => {
  assert.equal(jsonPath([]), "");
  assert.equal(jsonPath(["data", "context", "conflicts", 0]), "data.context.conflicts[0]");
  assert.equal(jsonPath([0, "a"]), "[0].a");
  assert.equal(jsonPath(["data", "$x", "_y"]), "data.$x._y");
});

Deno.test("jsonPath() quotes names that are not identifiers", () => {
  assert.equal(
    jsonPath(["data", "user", "profile", "first-name"]),
    'data.user.profile["first-name"]',
  );
  assert.equal(jsonPath(["data", "1st"]), 'data["1st"]');
  assert.equal(jsonPath(["data", 'a"b']), 'data["a\\"b"]');
  assert.equal(jsonPath(["data", ""]), 'data[""]');
});
