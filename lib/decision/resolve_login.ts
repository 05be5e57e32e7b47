/**
 * The resolution rule: which login an imported user gets. It reads and writes the login index
 * through its port, which must answer inside one write transaction, so its check-then-reserve is
 * atomic.
 */

import {
  loginProblem,
  middleNameCandidates,
  problemSummary,
  splitLogin,
  type StrategyProblem,
} from "./candidates.ts";
import { STRATEGY_NAMES, type StrategyName } from "../config.ts";
import { loginKey } from "./fold_name.ts";
import type { HookEvent } from "./hook_event.ts";
import type {
  LoginSource,
  LoginStrategy,
  PersonJudgement,
  PersonMatchMode,
  Reservation,
} from "./records.ts";
import { judgement } from "./person.ts";
import { oktaUserOwner } from "./owner.ts";
import { quote } from "./quote.ts";
import { ask, type Port, question, type ReadAsk, runSync, type Steps } from "./steps.ts";
import { freeSuffixedSteps } from "./suffix.ts";

/** The Okta account holding the login an event conflicted with, when a sync saw it. */
export interface Holder {
  /** Its Okta status: a DEPROVISIONED or SUSPENDED holder is often the same person returning. */
  readonly status: string;
  readonly oktaUserId: string | null;
}

/** What the service decided for one event. */
export type Resolution =
  | {
    readonly outcome: "skipped";
    readonly reason: string;
    /** On a judged `LINK_USER`: whether the linked user is the incoming person. */
    readonly person?: PersonJudgement | null;
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
    readonly holder: Holder | null;
    /** A judged conflict or link; `action` "refused_link" when a wrong link became a create. */
    readonly person?: PersonJudgement | null;
  }
  | {
    readonly outcome: "unresolved";
    readonly original: string;
    readonly reason: string;
    readonly problems: readonly StrategyProblem[];
    readonly holder: Holder | null;
    readonly person?: PersonJudgement | null;
  }
  | {
    /** The login's holder is the incoming person returning: Okta is told to link them. */
    readonly outcome: "linked";
    readonly original: string;
    /** The holder's Okta user id, which the link names. */
    readonly oktaUserId: string;
    readonly holder: Holder | null;
    readonly person: PersonJudgement;
  };

/**
 * Decides `event` against the index, reserving the login it lets through or assigns:
 * - anything but `CREATE_USER` is skipped (a `LINK_USER` login is noted as held by that user);
 * - an owner seen before gets the login it was given before;
 * - a login that Okta reports taken, or that the index holds for someone else, is replaced by the
 *   first free candidate of `strategies`; if none is free the event is unresolved.
 */
export function resolveLogin(event: HookEvent, port: Port, options: ResolveOptions): Resolution {
  return runSync(resolveSteps(event, options), port);
}

/** The strategies to try, and the time every reservation records. */
export interface ResolveOptions {
  readonly strategies: readonly StrategyName[];
  readonly at: string;
  /** Whether links and conflicts are judged by `PERSON_ATTRIBUTE` (default off). */
  readonly personMatch?: PersonMatchMode;
}

/** Attempts at a numbered login when another instance takes the one found first. */
const SUFFIX_ATTEMPTS = 10;

/** Other instances kept taking the logins this decision found free: worth a retry, not an answer. */
export class ContendedError extends Error {
  override name = "ContendedError";
}

/**
 * The reads {@link resolveSteps} begins with for `event`, none depending on another's answer:
 * an engine over the network may send them together. Keep in step with the rule below.
 */
export function firstReads(event: HookEvent): ReadAsk[] {
  if (event.action !== "CREATE_USER" || event.login === null) return [];
  const reads = [question("find", event.login)];
  if (event.ownerSource !== "event") {
    reads.unshift(question("findForOwner", event.owner, event.login));
  }
  return reads;
}

/** {@link resolveLogin} as steps, for any engine. */
export function* resolveSteps(event: HookEvent, options: ResolveOptions): Steps<Resolution> {
  // Every reservation of this event: the same event id and time, and (unless said otherwise)
  // owned by the event's owner for the login it asked for.
  const reservation = (
    login: string,
    strategy: LoginStrategy,
    source: LoginSource = "hook",
    owner: string | null = event.owner,
    requestedKey: string | null = event.login === null ? null : loginKey(event.login),
  ): Reservation => ({
    login,
    owner,
    requestedKey,
    strategy,
    source,
    eventId: event.eventId,
    at: options.at,
    person: event.person,
  });
  const judging = (options.personMatch ?? "off") !== "off";
  if (event.action === "LINK_USER" && event.login !== null && judging) {
    const linked = yield* ask("find", event.login);
    const found = judgement(event.person, linked, null);
    if (found.match === "different" && options.personMatch === "act") {
      // Okta matched someone else (same name, recycled address): create a user of their own,
      // whose login is certainly taken.
      const created = { ...event, action: "CREATE_USER", oktaReportsConflict: true };
      const resolution = yield* resolveSteps(created, { ...options, personMatch: "off" });
      if (resolution.outcome === "resolved" || resolution.outcome === "unresolved") {
        return { ...resolution, person: { ...found, action: "refused_link" } };
      }
      return resolution;
    }
    if (event.oktaUserId !== null) {
      // The linked user's own value, as far as it is known: the incoming one only when they agree.
      const holderPerson = found.holder ?? (found.match === "same" ? event.person : null);
      yield* ask("reserveIfFree", {
        ...reservation(event.login, "linked", "link", oktaUserOwner(event.oktaUserId), null),
        person: holderPerson,
      });
    }
    return { ...skippedLink(event), person: found };
  }
  if (event.action !== "CREATE_USER" || event.login === null) {
    if (event.action === "LINK_USER" && event.login !== null && event.oktaUserId !== null) {
      // The linked Okta user holds this login; remember it so no one else is handed it.
      yield* ask(
        "reserveIfFree",
        reservation(event.login, "linked", "link", oktaUserOwner(event.oktaUserId), null),
      );
    }
    return skippedLink(event);
  }

  const original = event.login;
  const originalKey = loginKey(original);
  const ownerStable = event.ownerSource !== "event";
  const previous = ownerStable ? yield* ask("findForOwner", event.owner, original) : undefined;
  if (previous !== undefined) {
    if (loginKey(previous.login) !== originalKey) {
      return {
        outcome: "resolved",
        original,
        login: previous.login,
        strategy: resolutionStrategy(previous.strategy),
        reused: true,
        reason: "The owner was given this login by an earlier decision",
        holder: null,
      };
    }
    if (!event.oktaReportsConflict) return { outcome: "unchanged", login: original, reused: true };
    // Okta now reports the login taken by an existing user: that user holds it, not this owner.
    yield* ask("disown", original, "okta_conflict");
  }

  let holder = previous === undefined ? yield* ask("find", original) : undefined;
  if (!event.oktaReportsConflict && holder === undefined && previous === undefined) {
    if (yield* ask("reserveIfFree", reservation(original, "unchanged"))) {
      return { outcome: "unchanged", login: original, reused: false };
    }
    // Another instance reserved it since: for this owner (a retry) or for someone else.
    holder = yield* ask("find", original);
  }
  const heldByOther = holder !== undefined && holder.owner !== event.owner;
  if (!event.oktaReportsConflict && !heldByOther) {
    return { outcome: "unchanged", login: original, reused: true };
  }
  if (event.oktaReportsConflict && holder !== undefined && !heldByOther) {
    yield* ask("disown", original, "okta_conflict");
  } else if (event.oktaReportsConflict && holder === undefined && previous === undefined) {
    yield* ask(
      "reserveIfFree",
      reservation(original, "okta_conflict", "okta_conflict", null, null),
    );
  }

  const held: Holder | null = holder === undefined || holder.oktaStatus === null
    ? null
    : { status: holder.oktaStatus, oktaUserId: holder.oktaUserId };
  const person = judging ? judgement(event.person, holder, null) : null;
  if (person?.match === "same" && options.personMatch === "act" && holder?.oktaUserId) {
    // The holder is this person coming back (a rehire, a contractor now an employee): their own
    // account, not a second identity with a middle name.
    const oktaUserId = holder.oktaUserId;
    return {
      outcome: "linked",
      original,
      oktaUserId,
      holder: held,
      person: { ...person, action: "linked" },
    };
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
    if (yield* ask("reserveIfFree", reservation(candidate.login, candidate.strategy))) {
      return {
        outcome: "resolved",
        original,
        ...candidate,
        reused: false,
        reason: why,
        holder: held,
        ...judged(person),
      };
    }
    skipped.push({
      strategy: candidate.strategy,
      reason: "TAKEN",
      summary: `${quote(candidate.login)} is taken too`,
    });
  }

  if (options.strategies.includes("numeric_suffix")) {
    const parts = splitLogin(original);
    const problem = parts === null ? "NOT_EMAIL_SHAPED" : loginProblem(original);
    let login: string | null = null;
    let tooLong = parts === null || problem !== null;
    for (let attempt = 0; !tooLong && login === null; attempt++) {
      if (attempt === SUFFIX_ATTEMPTS) {
        // Each numbered login found free was taken first by another instance, every time.
        throw new ContendedError(`Other instances took ${SUFFIX_ATTEMPTS} numbered logins first`);
      }
      const free = yield* freeSuffixedSteps(parts!);
      if (free === null) tooLong = true;
      // Free when looked at; another instance may have taken it since.
      else if (yield* ask("reserveIfFree", reservation(free, "numeric_suffix"))) login = free;
    }
    if (login !== null) {
      return {
        outcome: "resolved",
        original,
        login,
        strategy: "numeric_suffix",
        reused: false,
        reason: why,
        holder: held,
        ...judged(person),
      };
    }
    skipped.push({
      strategy: "numeric_suffix",
      reason: problem ?? "TOO_LONG",
      summary: problem === null
        ? `${quote(original)} with a number appended is too long`
        : problemSummary(problem, original),
    });
  }

  return {
    outcome: "unresolved",
    original,
    reason: why,
    problems: ordered(skipped, options.strategies),
    holder: held,
    ...judged(person),
  };
}

/** The judgement as a field of a resolution, or nothing when links are not judged. */
function judged(person: PersonJudgement | null): { person?: PersonJudgement } {
  return person === null ? {} : { person };
}

/** Anything but `CREATE_USER` is Okta's to do. */
function skippedLink(event: HookEvent): Extract<Resolution, { outcome: "skipped" }> {
  return {
    outcome: "skipped",
    reason: `Action ${event.action ?? "(none)"} is left to Okta; only CREATE_USER is resolved`,
  };
}

function ordered(
  problems: StrategyProblem[],
  strategies: readonly StrategyName[],
): StrategyProblem[] {
  return problems.sort((a, b) => strategies.indexOf(a.strategy) - strategies.indexOf(b.strategy));
}

/** An owner's login other than the one it asked for was chosen by a resolution strategy. */
function resolutionStrategy(strategy: LoginStrategy): StrategyName {
  const name = STRATEGY_NAMES.find((known) => known === strategy);
  if (name === undefined) throw new Error(`An owner's changed login has strategy "${strategy}"`);
  return name;
}
