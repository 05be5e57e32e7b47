import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { dbPathOf, errorMessage, usageError, waitLine } from "./cli.ts";

Deno.test("usageError() cuts parseArgs's advice about positionals and points to --help", () => {
  let error: unknown;
  try {
    parseArgs({ args: ["--nope"], options: {}, allowPositionals: true });
  } catch (e) {
    error = e;
  }
  assert.equal(usageError(error), "Unknown option '--nope' (see --help)");
  assert.equal(usageError(new TypeError("Expected one file")), "Expected one file (see --help)");
});

Deno.test("errorMessage() words Deno's file errors for a person", () => {
  assert.equal(errorMessage(new Deno.errors.NotFound("No such file (os error 2)")), "no such file");
  assert.equal(
    errorMessage(new Deno.errors.PermissionDenied("Requires read access\nrun again with...")),
    "Requires read access",
  );
  assert.equal(errorMessage("plain"), "plain");
});

Deno.test("dbPathOf() takes DB_PATH, trimmed, or the service's default", () => {
  assert.equal(dbPathOf({}), "data/import-hook.db");
  assert.equal(dbPathOf({ DB_PATH: "  " }), "data/import-hook.db");
  assert.equal(dbPathOf({ DB_PATH: " /var/lib/hook.db " }), "/var/lib/hook.db");
});

Deno.test("waitLine() says why and how long a command waits for Okta", () => {
  assert.equal(
    waitLine({ reason: "429", ms: 1500, request: "GET /api/v1/users" }),
    "... Okta answered 429 Too Many Requests: waiting 1.5 s for the reset",
  );
  assert.equal(
    waitLine({ reason: "retry", ms: 250, request: "GET /api/v1/users" }),
    "... Okta failed GET /api/v1/users: retrying in 0.3 s",
  );
});
