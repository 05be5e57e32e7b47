/**
 * Candidate logins for a user whose login is taken: pure string work, no lookups.
 */

import type { StrategyName } from "../config.ts";
import { foldName } from "./fold_name.ts";
import { quote } from "./quote.ts";

/** Okta's longest login. */
export const MAX_LOGIN_LENGTH = 100;
/** Longest local part a mail system must accept (RFC 5321 section 4.5.3.1.1). */
export const MAX_LOCAL_PART_LENGTH = 64;

/** A login split at its last `@`. */
export interface LoginParts {
  readonly local: string;
  readonly domain: string;
}

/** A login one strategy proposes. */
export interface Candidate {
  readonly login: string;
  readonly strategy: StrategyName;
}

/** Why a strategy proposed nothing usable; becomes an Okta `errorCauses` entry. */
export interface StrategyProblem {
  readonly strategy: StrategyName;
  readonly reason: "MISSING_MIDDLE_NAME" | "NOT_EMAIL_SHAPED" | "TOO_LONG" | "TAKEN";
  readonly summary: string;
}

// RFC 5322 atext, plus any non-ASCII character (RFC 6531 allows UTF-8 in the local part).
const ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+$/u;
const DOMAIN_LABEL = /^(?!-)[A-Za-z0-9\u0080-\u{10FFFF}-]{1,63}(?<!-)$/u;

/** Splits a login at its last `@`, or returns `null` when it has no local part or domain. */
export function splitLogin(login: string): LoginParts | null {
  const at = login.lastIndexOf("@");
  if (at <= 0 || at === login.length - 1) return null;
  return { local: login.slice(0, at), domain: login.slice(at + 1) };
}

/** Why `login` cannot be used as a generated login, or `null` when it can. */
export function loginProblem(login: string): "NOT_EMAIL_SHAPED" | "TOO_LONG" | null {
  const parts = splitLogin(login);
  if (parts === null) return "NOT_EMAIL_SHAPED";
  const atomsOk = parts.local.split(".").every((atom) => ATOM.test(atom));
  const labels = parts.domain.split(".");
  const domainOk = labels.length >= 2 && labels.every((label) => DOMAIN_LABEL.test(label));
  if (!atomsOk || !domainOk) return "NOT_EMAIL_SHAPED";
  if (login.length > MAX_LOGIN_LENGTH || parts.local.length > MAX_LOCAL_PART_LENGTH) {
    return "TOO_LONG";
  }
  return null;
}

/**
 * Inserts `fragment` after the first dot-separated part of the local part
 * (`george.smith` + `alexander` -> `george.alexander.smith`); a local part without a dot gets it
 * appended (`gsmith` -> `gsmith.alexander`).
 */
export function infix(parts: LoginParts, fragment: string): string {
  const dot = parts.local.indexOf(".");
  const local = dot === -1
    ? `${parts.local}.${fragment}`
    : `${parts.local.slice(0, dot)}.${fragment}${parts.local.slice(dot)}`;
  return `${local}@${parts.domain}`;
}

/**
 * The login with a number appended to its local part (`john.smith` + 2 -> `john.smith2`), or
 * `null` when that makes the login or its local part too long.
 */
export function withSuffix(parts: LoginParts, n: number): string | null {
  const local = `${parts.local}${n}`;
  const login = `${local}@${parts.domain}`;
  return login.length > MAX_LOGIN_LENGTH || local.length > MAX_LOCAL_PART_LENGTH ? null : login;
}

/** Result of {@link middleNameCandidates}. */
export interface MiddleNameCandidates {
  readonly candidates: Candidate[];
  readonly problems: StrategyProblem[];
}

/**
 * The middle-name candidates for `login`, in the order of `strategies` (numeric suffixes are
 * found against the index, not here), with the reason each skipped strategy gave nothing.
 */
export function middleNameCandidates(
  login: string,
  middleName: string | null,
  strategies: readonly StrategyName[],
): MiddleNameCandidates {
  const candidates: Candidate[] = [];
  const problems: StrategyProblem[] = [];
  const parts = splitLogin(login);
  const folded = middleName === null ? "" : foldName(middleName);
  for (const strategy of strategies) {
    if (strategy === "numeric_suffix") continue;
    if (folded === "") {
      problems.push({
        strategy,
        reason: "MISSING_MIDDLE_NAME",
        summary: middleName === null
          ? "No middle name in the app user or Okta user profile"
          : "The middle name has no letters usable in a login",
      });
      continue;
    }
    if (parts === null) {
      problems.push({ strategy, reason: "NOT_EMAIL_SHAPED", summary: notEmailShaped(login) });
      continue;
    }
    const fragment = strategy === "middle_name" ? folded : folded.slice(0, 1);
    const candidate = infix(parts, fragment);
    const problem = loginProblem(candidate);
    if (problem === null) candidates.push({ login: candidate, strategy });
    else problems.push({ strategy, reason: problem, summary: problemSummary(problem, candidate) });
  }
  return { candidates, problems };
}

/** A human summary of a {@link loginProblem} for `login`. */
export function problemSummary(problem: "NOT_EMAIL_SHAPED" | "TOO_LONG", login: string): string {
  return problem === "TOO_LONG"
    ? `${
      quote(login)
    } is longer than ${MAX_LOGIN_LENGTH} characters or its local part longer than ${MAX_LOCAL_PART_LENGTH}`
    : notEmailShaped(login);
}

function notEmailShaped(login: string): string {
  return `${quote(login)} is not an email address`;
}
