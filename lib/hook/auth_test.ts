import assert from "node:assert/strict";
import { createAuthCheck } from "./auth.ts";

const SECRET = "current-secret-0123456789";
const OLD = "previous-secret-9876543210";

Deno.test("createAuthCheck() accepts the configured secret in the configured header", () => {
  const check = createAuthCheck([SECRET], "Authorization");
  assert.equal(check(new Headers({ authorization: SECRET })), "ok");
  assert.equal(check(new Headers({ AUTHORIZATION: SECRET })), "ok");
});

Deno.test("createAuthCheck() calls an absent or empty header missing", () => {
  const check = createAuthCheck([SECRET], "X-Hook-Secret");
  assert.equal(check(new Headers()), "missing");
  assert.equal(check(new Headers({ "x-hook-secret": "" })), "missing");
  // The secret in another header does not count.
  assert.equal(check(new Headers({ authorization: SECRET })), "missing");
  assert.equal(check(new Headers({ "x-hook-secret": SECRET })), "ok");
});

Deno.test("createAuthCheck() calls any other value wrong, even a prefix or a longer value", () => {
  const check = createAuthCheck([SECRET], "Authorization");
  assert.equal(check(new Headers({ authorization: "nope" })), "wrong");
  assert.equal(check(new Headers({ authorization: SECRET.slice(0, -1) })), "wrong");
  assert.equal(check(new Headers({ authorization: `${SECRET}x` })), "wrong");
  assert.equal(check(new Headers({ authorization: SECRET.toUpperCase() })), "wrong");
  assert.equal(check(new Headers({ authorization: `Bearer ${SECRET}` })), "wrong");
});

Deno.test("createAuthCheck() accepts each of several secrets during a rotation", () => {
  const check = createAuthCheck([OLD, SECRET], "Authorization");
  assert.equal(check(new Headers({ authorization: OLD })), "ok");
  assert.equal(check(new Headers({ authorization: SECRET })), "ok");
  assert.equal(check(new Headers({ authorization: `${OLD},${SECRET}` })), "wrong");
});

Deno.test("createAuthCheck() refuses to build a check without a secret", () => {
  assert.throws(
    () => createAuthCheck([], "Authorization"),
    (error: unknown) =>
      error instanceof RangeError && error.message === "Cannot check auth: no secret is configured",
  );
});
