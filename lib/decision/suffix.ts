/**
 * Numbered logins: the second `john.smith` becomes `john.smith2`. A counter per base remembers
 * where the last search ended, so the 10,000th costs a lookup or two, like the 2nd, and no search
 * reads another base's or another domain's logins.
 */

import { loginKey } from "./fold_name.ts";
import { type LoginParts, withSuffix } from "./candidates.ts";
import { ask, type Steps } from "./steps.ts";

/** Numeric suffixes start here: the second `john.smith` becomes `john.smith2`. */
export const FIRST_SUFFIX = 2;

/**
 * A free `<local><n>@<domain>` with n >= 2, or `null` when that login would be too long; the
 * counter is advanced in the same transaction as the caller's reservation.
 *
 * The counter's number is tried first: at a new base that is 2, one lookup. When it is taken
 * (a seed, a sync or another instance added numbered logins the counter does not know of), the
 * search gallops (n+1, n+2, n+4, ...) to a free number and halves back to the first free one
 * after a taken one: a few lookups for a run of any length, and none of them reads a login of
 * another base or another domain, however many there are.
 */
export function* freeSuffixedSteps(parts: LoginParts): Steps<string | null> {
  const baseKey = loginKey(`${parts.local}@${parts.domain}`);
  const counter = yield* ask("suffixCounter", baseKey);
  /** The login numbered `n` when it is free; `null` when taken; `undefined` when too long. */
  function* free(n: number): Steps<string | null | undefined> {
    const login = withSuffix(parts, n);
    if (login === null) return undefined;
    return (yield* ask("find", login)) === undefined ? login : null;
  }
  let taken = (counter ?? FIRST_SUFFIX) - 1;
  let found = yield* free(taken + 1);
  let at = taken + 1;
  if (found === null) {
    // Gallop: `taken` stays a taken number, `at` the one tried next.
    taken = at;
    for (let step = 1;; step *= 2) {
      at = taken + step;
      found = yield* free(at);
      if (found !== null) break;
      taken = at;
    }
    // Halve between the last taken number and the free (or too long) one found.
    while (at - taken > 1) {
      const middle = taken + Math.floor((at - taken) / 2);
      const login = yield* free(middle);
      if (login === null) taken = middle;
      else [at, found] = [middle, login];
    }
  }
  if (found === undefined) return null;
  // Advanced before the caller reserves: both happen in one transaction or not at all.
  yield* ask("setSuffixCounter", baseKey, at + 1);
  return found;
}
