/**
 * The header-secret check Okta's HTTP channel uses: the configured header must carry exactly one
 * of the accepted secrets. Compared in constant time, so response timing says nothing about how
 * much of a guess was right.
 */

import { createHash, timingSafeEqual } from "node:crypto";

/** Result of an auth check: pass, or why not. */
export type AuthResult = "ok" | "missing" | "wrong";

/** A check of a request's headers. */
export type AuthCheck = (headers: Headers) => AuthResult;

/** Builds the check for `headerName` accepting any of `secrets` (several during a rotation). */
export function createAuthCheck(secrets: readonly string[], headerName: string): AuthCheck {
  if (secrets.length === 0) throw new RangeError("Cannot check auth: no secret is configured");
  const expected = secrets.map(digest);
  return function checkAuth(headers: Headers): AuthResult {
    const presented = headers.get(headerName);
    if (presented === null || presented === "") return "missing";
    const actual = digest(presented);
    // Every secret is compared, so the time taken does not tell which one matched.
    let matched = false;
    for (const candidate of expected) matched = timingSafeEqual(candidate, actual) || matched;
    return matched ? "ok" : "wrong";
  };
}

// Hashing first gives equal-length inputs, as timingSafeEqual requires, without leaking length.
function digest(value: string): Uint8Array {
  return createHash("sha256").update(value, "utf8").digest();
}
