/**
 * Numbered logins: the second `john.smith` becomes `john.smith2`. A counter per base remembers
 * where the last search ended, so the 10,000th costs a lookup or two, like the 2nd.
 */

import { loginKey } from "./fold_name.ts";
import { type LoginParts, withSuffix } from "./candidates.ts";
import { ask, type Steps } from "./steps.ts";

/** Numeric suffixes start here: the second `john.smith` becomes `john.smith2`. */
export const FIRST_SUFFIX = 2;

/** The number of the key `<localKey><n>@<domainKey>`, or 0 when the key is not one. */
export function suffixOf(key: string, localKey: string, domainKey: string): number {
  const match = /^(\d+)@(.*)$/.exec(key.slice(localKey.length));
  return key.startsWith(localKey) && match && match[2] === domainKey ? Number(match[1]) : 0;
}

/**
 * A free `<local><n>@<domain>` with n >= 2, or `null` when that login would be too long; the
 * counter is advanced in the same transaction as the caller's reservation.
 */
export function* freeSuffixedSteps(parts: LoginParts): Steps<string | null> {
  const baseKey = loginKey(`${parts.local}@${parts.domain}`);
  const highest = () => ask("highestSuffix", loginKey(parts.local), loginKey(parts.domain));
  const counter = yield* ask("suffixCounter", baseKey);
  let n = counter ?? (yield* highest()) + 1;
  // A counter behind the index (a seed, a sync or another instance added numbered logins) costs
  // one scan of that range, not a lookup per number.
  let scanned = counter === undefined;
  for (;;) {
    const login = withSuffix(parts, n);
    if (login === null) return null;
    if ((yield* ask("find", login)) === undefined) {
      // Advanced before the caller reserves: both happen in one transaction or not at all.
      yield* ask("setSuffixCounter", baseKey, n + 1);
      return login;
    }
    n = scanned ? n + 1 : Math.max(n + 1, (yield* highest()) + 1);
    scanned = true;
  }
}
