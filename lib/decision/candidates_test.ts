import assert from "node:assert/strict";
import {
  infix,
  loginProblem,
  MAX_LOCAL_PART_LENGTH,
  MAX_LOGIN_LENGTH,
  middleNameCandidates,
  problemSummary,
  splitLogin,
  withSuffix,
} from "./candidates.ts";

const ALL = ["middle_name", "middle_initial", "numeric_suffix"] as const;

Deno.test("splitLogin() splits at the last @", () => {
  assert.deepEqual(splitLogin("john.smith@example.com"), {
    local: "john.smith",
    domain: "example.com",
  });
  assert.deepEqual(splitLogin('"a@b"@example.com'), { local: '"a@b"', domain: "example.com" });
});

Deno.test("splitLogin() returns null without a local part or a domain", () => {
  assert.equal(splitLogin("jsmith"), null);
  assert.equal(splitLogin("@example.com"), null);
  assert.equal(splitLogin("jsmith@"), null);
  assert.equal(splitLogin(""), null);
});

Deno.test("loginProblem() accepts ordinary and internationalised email addresses", () => {
  assert.equal(loginProblem("john.smith@example.com"), null);
  assert.equal(loginProblem("o'neil+hr@mail.example.co.uk"), null);
  assert.equal(loginProblem("josé.núñez@bücher.example"), null);
});

Deno.test("loginProblem() calls a login that is not an email address NOT_EMAIL_SHAPED", () => {
  for (
    const login of [
      "jsmith",
      "john..smith@example.com",
      ".john@example.com",
      "john.@example.com",
      "john smith@example.com",
      "john@localhost",
      "john@-example.com",
      "john@example-.com",
      "john@example..com",
      `john@${"d".repeat(64)}.com`,
    ]
  ) assert.equal(loginProblem(login), "NOT_EMAIL_SHAPED", login);
});

Deno.test("loginProblem() allows 100 characters in all and 64 in the local part", () => {
  assert.equal(MAX_LOGIN_LENGTH, 100);
  assert.equal(MAX_LOCAL_PART_LENGTH, 64);
  const domain100 = `${"d".repeat(40)}.${"e".repeat(40)}.com`; // 85 characters
  assert.equal(loginProblem(`${"a".repeat(14)}@${domain100}`), null); // 100
  assert.equal(loginProblem(`${"a".repeat(15)}@${domain100}`), "TOO_LONG"); // 101
  assert.equal(loginProblem(`${"a".repeat(64)}@example.com`), null);
  assert.equal(loginProblem(`${"a".repeat(65)}@example.com`), "TOO_LONG");
});

Deno.test("infix() puts the fragment after the first part of a dotted local part", () => {
  const at = (local: string) => ({ local, domain: "example.com" });
  assert.equal(infix(at("george.smith"), "alexander"), "george.alexander.smith@example.com");
  assert.equal(infix(at("mary.ann.lee"), "k"), "mary.k.ann.lee@example.com");
});

Deno.test("infix() appends the fragment to a local part without a dot", () => {
  assert.equal(
    infix({ local: "gsmith", domain: "example.com" }, "alexander"),
    "gsmith.alexander@example.com",
  );
});

Deno.test("withSuffix() appends the number to the local part", () => {
  assert.equal(withSuffix({ local: "john.smith", domain: "x.com" }, 12), "john.smith12@x.com");
});

Deno.test("middleNameCandidates() proposes the folded middle name, then its initial", () => {
  assert.deepEqual(middleNameCandidates("maria.lopez@example.com", "José Luis", ALL), {
    candidates: [
      { login: "maria.jose-luis.lopez@example.com", strategy: "middle_name" },
      { login: "maria.j.lopez@example.com", strategy: "middle_initial" },
    ],
    problems: [],
  });
});

Deno.test("middleNameCandidates() follows the order of the strategies", () => {
  assert.deepEqual(
    middleNameCandidates("gsmith@example.com", "Alexander", [
      "numeric_suffix",
      "middle_initial",
      "middle_name",
    ]),
    {
      candidates: [
        { login: "gsmith.a@example.com", strategy: "middle_initial" },
        { login: "gsmith.alexander@example.com", strategy: "middle_name" },
      ],
      problems: [],
    },
  );
  assert.deepEqual(middleNameCandidates("g@example.com", "Alexander", ["numeric_suffix"]), {
    candidates: [],
    problems: [],
  });
});

Deno.test("middleNameCandidates() reports a missing middle name for each middle-name strategy", () => {
  assert.deepEqual(middleNameCandidates("g.smith@example.com", null, ALL), {
    candidates: [],
    problems: [
      {
        strategy: "middle_name",
        reason: "MISSING_MIDDLE_NAME",
        summary: "No middle name in the app user or Okta user profile",
      },
      {
        strategy: "middle_initial",
        reason: "MISSING_MIDDLE_NAME",
        summary: "No middle name in the app user or Okta user profile",
      },
    ],
  });
});

Deno.test("middleNameCandidates() reports a middle name with no usable letters", () => {
  assert.deepEqual(middleNameCandidates("g.smith@example.com", "李", ["middle_initial"]), {
    candidates: [],
    problems: [{
      strategy: "middle_initial",
      reason: "MISSING_MIDDLE_NAME",
      summary: "The middle name has no letters usable in a login",
    }],
  });
});

Deno.test("middleNameCandidates() reports a login that is not an email address", () => {
  assert.deepEqual(middleNameCandidates("gsmith", "Alexander", ["middle_name"]), {
    candidates: [],
    problems: [{
      strategy: "middle_name",
      reason: "NOT_EMAIL_SHAPED",
      summary: '"gsmith" is not an email address',
    }],
  });
});

Deno.test("middleNameCandidates() drops a middle-name login over the limit but keeps the initial", () => {
  const local = `g.${"s".repeat(57)}`; // 59 characters
  const login = `${local}@example.com`;
  const long = `g.alexander.${"s".repeat(57)}@example.com`;
  assert.deepEqual(middleNameCandidates(login, "Alexander", ALL), {
    candidates: [{ login: `g.a.${"s".repeat(57)}@example.com`, strategy: "middle_initial" }],
    problems: [{
      strategy: "middle_name",
      reason: "TOO_LONG",
      // The login is quoted cut to 40 characters: summaries stay small whatever the input.
      summary: `"${
        long.slice(0, 40)
      }…" is longer than 100 characters or its local part longer than 64`,
    }],
  });
});

Deno.test("problemSummary() words each login problem", () => {
  assert.equal(
    problemSummary("TOO_LONG", "x@y.com"),
    '"x@y.com" is longer than 100 characters or its local part longer than 64',
  );
  assert.equal(problemSummary("NOT_EMAIL_SHAPED", "xy"), '"xy" is not an email address');
});
