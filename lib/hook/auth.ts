/**
 * Authentication of Okta's calls: the header secret of Okta's HTTP channel, compared in constant
 * time so response timing says nothing about how much of a guess was right; with `HOOK_OAUTH_*`,
 * OAuth 2.0 bearer tokens (./oauth.ts), or both while an operator switches over.
 */

import { createHash, timingSafeEqual } from "node:crypto";

/** Why a request was refused: the status, one line naming the failed check, where to look. */
export interface AuthRefusal {
  readonly ok: false;
  /** 401 (no or bad credentials), 403 (a wrong secret), 503 (keys to check with unavailable). */
  readonly status: 401 | 403 | 503;
  /** Okta error-cause reason code. */
  readonly reason: string;
  /** One line for the reply, the log and the audit: never the credential itself. */
  readonly summary: string;
  /** The header the credential was looked for in. */
  readonly location: string;
}

/** Result of an auth check: pass, or why not. */
export type AuthResult = { readonly ok: true } | AuthRefusal;

/** A check of a request's headers. */
export type AuthCheck = (headers: Headers) => AuthResult | Promise<AuthResult>;

/** The passing result. */
export const AUTH_OK: AuthResult = { ok: true };

/** Builds the check for `headerName` accepting any of `secrets` (several during a rotation). */
export function createSecretCheck(
  secrets: readonly string[],
  headerName: string,
): (headers: Headers) => AuthResult {
  if (secrets.length === 0) throw new RangeError("Cannot check auth: no secret is configured");
  const expected = secrets.map(digest);
  return function checkSecret(headers: Headers): AuthResult {
    const presented = headers.get(headerName);
    if (presented === null || presented === "") {
      return refusal(401, "MISSING_CREDENTIALS", `Missing ${headerName} header`, headerName);
    }
    const actual = digest(presented);
    // Every secret is compared, so the time taken does not tell which one matched.
    let matched = false;
    for (const candidate of expected) matched = timingSafeEqual(candidate, actual) || matched;
    return matched
      ? AUTH_OK
      : refusal(403, "INVALID_CREDENTIALS", `Wrong ${headerName} header value`, headerName);
  };
}

/**
 * While switching from the header secret to OAuth: a request passes with either. A bearer token
 * in `Authorization` is judged as a token (its refusal names the token's failed check);
 * anything else as the secret.
 */
export function eitherCheck(
  secret: (headers: Headers) => AuthResult,
  token: AuthCheck,
): AuthCheck {
  return (headers) => {
    const bySecret = secret(headers);
    if (bySecret.ok) return bySecret;
    return /^bearer\s/i.test(headers.get("authorization") ?? "") ? token(headers) : bySecret;
  };
}

/** A refusal, built in one place. */
export function refusal(
  status: AuthRefusal["status"],
  reason: string,
  summary: string,
  location: string,
): AuthRefusal {
  return { ok: false, status, reason, summary, location };
}

// Hashing first gives equal-length inputs, as timingSafeEqual requires, without leaking length.
function digest(value: string): Uint8Array {
  return createHash("sha256").update(value, "utf8").digest();
}
