import assert from "node:assert/strict";
import { type AuthResult, createSecretCheck, eitherCheck } from "./auth.ts";

/** A result in short: ok, missing (401) or wrong (403). */
function verdict(result: AuthResult): string {
  if (result.ok) return "ok";
  return result.status === 401
    ? "missing"
    : result.status === 403
    ? "wrong"
    : String(result.status);
}

const SECRET = "current-secret-0123456789";
const OLD = "previous-secret-9876543210";

Deno.test("createSecretCheck() accepts the configured secret in the configured header", () => {
  const check = createSecretCheck([SECRET], "Authorization");
  assert.equal(verdict(check(new Headers({ authorization: SECRET }))), "ok");
  assert.equal(verdict(check(new Headers({ AUTHORIZATION: SECRET }))), "ok");
});

Deno.test("createSecretCheck() calls an absent or empty header missing", () => {
  const check = createSecretCheck([SECRET], "X-Hook-Secret");
  assert.equal(verdict(check(new Headers())), "missing");
  assert.equal(verdict(check(new Headers({ "x-hook-secret": "" }))), "missing");
  // The secret in another header does not count.
  assert.equal(verdict(check(new Headers({ authorization: SECRET }))), "missing");
  assert.equal(verdict(check(new Headers({ "x-hook-secret": SECRET }))), "ok");
});

Deno.test("createSecretCheck() calls any other value wrong, even a prefix or a longer value", () => {
  const check = createSecretCheck([SECRET], "Authorization");
  assert.equal(verdict(check(new Headers({ authorization: "nope" }))), "wrong");
  assert.equal(verdict(check(new Headers({ authorization: SECRET.slice(0, -1) }))), "wrong");
  assert.equal(verdict(check(new Headers({ authorization: `${SECRET}x` }))), "wrong");
  assert.equal(verdict(check(new Headers({ authorization: SECRET.toUpperCase() }))), "wrong");
  assert.equal(verdict(check(new Headers({ authorization: `Bearer ${SECRET}` }))), "wrong");
});

Deno.test("createSecretCheck() accepts each of several secrets during a rotation", () => {
  const check = createSecretCheck([OLD, SECRET], "Authorization");
  assert.equal(verdict(check(new Headers({ authorization: OLD }))), "ok");
  assert.equal(verdict(check(new Headers({ authorization: SECRET }))), "ok");
  assert.equal(verdict(check(new Headers({ authorization: `${OLD},${SECRET}` }))), "wrong");
});

Deno.test("createSecretCheck() refuses to build a check without a secret", () => {
  assert.throws(
    () => createSecretCheck([], "Authorization"),
    (error: unknown) =>
      error instanceof RangeError && error.message === "Cannot check auth: no secret is configured",
  );
});

Deno.test("createSecretCheck() names the header and the failed check, never the value", () => {
  const check = createSecretCheck([SECRET], "X-Hook-Secret");
  assert.deepEqual(check(new Headers({ "x-hook-secret": "guess-1234" })), {
    ok: false,
    status: 403,
    reason: "INVALID_CREDENTIALS",
    summary: "Wrong X-Hook-Secret header value",
    location: "X-Hook-Secret",
  });
});

Deno.test("eitherCheck() passes the secret or a token, judging a bearer token as a token", async () => {
  const tokens: string[] = [];
  const token = (headers: Headers): AuthResult => {
    tokens.push(headers.get("authorization") ?? "");
    return headers.get("authorization") === "Bearer good" ? { ok: true } : {
      ok: false,
      status: 401,
      reason: "INVALID_TOKEN",
      summary: "bad",
      location: "Authorization",
    };
  };
  const check = eitherCheck(createSecretCheck([SECRET], "Authorization"), token);
  assert.equal(verdict(await check(new Headers({ authorization: SECRET }))), "ok");
  assert.equal(verdict(await check(new Headers({ authorization: "Bearer good" }))), "ok");
  assert.equal(verdict(await check(new Headers({ authorization: "Bearer bad" }))), "missing");
  assert.equal(verdict(await check(new Headers({ authorization: "guess-1234" }))), "wrong");
  assert.deepEqual(tokens, ["Bearer good", "Bearer bad"]);
});
