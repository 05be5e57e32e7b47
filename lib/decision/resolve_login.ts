/**
 * The resolution rule: which login an imported user gets. It reads and writes the login index and
 * must run inside a write transaction, so its check-then-reserve is atomic.
 */

import {
  describe,
  loginProblem,
  middleNameCandidates,
  splitLogin,
  type StrategyProblem,
} from "./candidates.ts";
import type { StrategyName } from "../config.ts";
import { loginKey } from "./fold_name.ts";
import type { HookEvent } from "./hook_event.ts";
import type { LoginIndex } from "./login_index.ts";

/** What the service decided for one event. */
export type Resolution =
  | {
    readonly outcome: "skipped";
    readonly reason: string;
  }
  | {
    readonly outcome: "unchanged";
    readonly login: string;
    /** True when the owner already held this login from an earlier event. */
    readonly reused: boolean;
  }
  | {
    readonly outcome: "resolved";
    readonly original: string;
    readonly login: string;
    readonly strategy: StrategyName;
    readonly reused: boolean;
    readonly reason: string;
  }
  | {
    readonly outcome: "unresolved";
    readonly original: string;
    readonly reason: string;
    readonly problems: readonly StrategyProblem[];
  };

/**
 * Decides `event` against the index, reserving the login it lets through or assigns:
 * - anything but `CREATE_USER` is skipped (a `LINK_USER` login is noted as held by that user);
 * - an owner seen before gets the login it was given before;
 * - a login that Okta reports taken, or that the index holds for someone else, is replaced by the
 *   first free candidate of `strategies`; if none is free the event is unresolved.
 */
export function resolveLogin(
  event: HookEvent,
  index: LoginIndex,
  options: { readonly strategies: readonly StrategyName[]; readonly at: string },
): Resolution {
  const { at } = options;
  const reservation = { eventId: event.eventId, at };
  if (event.action !== "CREATE_USER" || event.login === null) {
    if (event.action === "LINK_USER" && event.login !== null && event.oktaUserId !== null) {
      // The linked Okta user holds this login; remember it so no one else is handed it.
      index.reserveIfFree({
        ...reservation,
        login: event.login,
        owner: JSON.stringify(["okta", event.oktaUserId]),
        requestedKey: null,
        strategy: "linked",
        source: "link",
      });
    }
    return {
      outcome: "skipped",
      reason: `Action ${event.action ?? "(none)"} is left to Okta; only CREATE_USER is resolved`,
    };
  }

  const original = event.login;
  const originalKey = loginKey(original);
  const ownerStable = event.ownerSource !== "event";
  const previous = ownerStable ? index.findForOwner(event.owner, original) : undefined;
  if (previous !== undefined) {
    const isOriginal = previous.loginKey === originalKey;
    if (!isOriginal) {
      return {
        outcome: "resolved",
        original,
        login: previous.login,
        strategy: previous.strategy as StrategyName,
        reused: true,
        reason: "The owner was given this login by an earlier decision",
      };
    }
    if (!event.oktaReportsConflict) return { outcome: "unchanged", login: original, reused: true };
    // Okta now reports the login taken by an existing user: that user holds it, not this owner.
    index.disown(original, "okta_conflict");
  }

  const holder = previous === undefined ? index.find(original) : undefined;
  const heldByOther = holder !== undefined && holder.owner !== event.owner;
  if (!event.oktaReportsConflict && !heldByOther) {
    if (holder === undefined) {
      index.reserve({
        ...reservation,
        login: original,
        owner: event.owner,
        requestedKey: originalKey,
        strategy: "unchanged",
        source: "hook",
      });
    }
    return { outcome: "unchanged", login: original, reused: holder !== undefined };
  }
  if (event.oktaReportsConflict && holder !== undefined && !heldByOther) {
    index.disown(original, "okta_conflict");
  } else if (event.oktaReportsConflict && holder === undefined && previous === undefined) {
    index.reserve({
      ...reservation,
      login: original,
      owner: null,
      requestedKey: null,
      strategy: "okta_conflict",
      source: "okta_conflict",
    });
  }

  const why = event.oktaReportsConflict
    ? "Okta reported the login taken"
    : "The login index holds the login for another user";
  const { candidates, problems } = middleNameCandidates(
    original,
    event.middleName,
    options.strategies,
  );
  const skipped = [...problems];
  for (const candidate of candidates) {
    if (index.find(candidate.login) === undefined) {
      index.reserve({
        ...reservation,
        login: candidate.login,
        owner: event.owner,
        requestedKey: originalKey,
        strategy: candidate.strategy,
        source: "hook",
      });
      return { outcome: "resolved", original, ...candidate, reused: false, reason: why };
    }
    skipped.push({
      strategy: candidate.strategy,
      reason: "TAKEN",
      summary: `"${candidate.login}" is taken too`,
    });
  }

  if (options.strategies.includes("numeric_suffix")) {
    const parts = splitLogin(original);
    const problem = parts === null ? "NOT_EMAIL_SHAPED" : loginProblem(original);
    const login = parts !== null && problem === null ? index.freeSuffixedLogin(parts) : null;
    if (login !== null) {
      index.reserve({
        ...reservation,
        login,
        owner: event.owner,
        requestedKey: originalKey,
        strategy: "numeric_suffix",
        source: "hook",
      });
      return {
        outcome: "resolved",
        original,
        login,
        strategy: "numeric_suffix",
        reused: false,
        reason: why,
      };
    }
    skipped.push({
      strategy: "numeric_suffix",
      reason: problem ?? "TOO_LONG",
      summary: problem === null
        ? `"${original}" with a number appended is too long`
        : describe(problem, original),
    });
  }

  return {
    outcome: "unresolved",
    original,
    reason: why,
    problems: ordered(skipped, options.strategies),
  };
}

function ordered(
  problems: StrategyProblem[],
  strategies: readonly StrategyName[],
): StrategyProblem[] {
  return problems.sort((a, b) => strategies.indexOf(a.strategy) - strategies.indexOf(b.strategy));
}
