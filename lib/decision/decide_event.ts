/**
 * One hook event's whole write: answer a replayed eventId from the audit, or resolve the login
 * and record the decision. Runs inside the caller's write transaction.
 */

import type { StrategyName } from "../config.ts";
import type { HookEvent } from "./hook_event.ts";
import { resolutionReply } from "./okta_response.ts";
import type { Outcome, PersonJudgement, PersonMatchMode, Reply } from "./records.ts";
import { firstReads, resolveSteps } from "./resolve_login.ts";
import { ask, type Port, prefetch, question, runSync, type Steps } from "./steps.ts";

/** What the handler needs to answer and log. */
export interface Decided {
  readonly reply: Reply;
  readonly outcome: Outcome;
  /** The strategy that chose a changed login, or `null`. */
  readonly strategy: string | null;
  /** True when the eventId had been decided before and its reply is sent again. */
  readonly replayed: boolean;
  /**
   * True when the eventId had been decided before from other inputs (another person, or an
   * edited body): this request was decided on its own, never given that answer.
   */
  readonly eventIdReused: boolean;
  /** What a judged link or conflict found and did (`PERSON_MATCH`), or `null`. */
  readonly person?: Pick<PersonJudgement, "match" | "action"> | null;
}

/**
 * What the rule reads of an event, as canonical text: two requests with the same text get the
 * same decision, so one with other text under a known eventId is decided anew.
 */
export function decisionInputs(event: HookEvent): string {
  return JSON.stringify([
    event.action,
    event.login,
    event.owner,
    event.oktaReportsConflict,
    event.middleName,
    event.oktaUserId,
  ]);
}

/**
 * When: the request's arrival, and the milliseconds it had spent before this decision began. A
 * request's duration is carried in this one form, from the handler through the store and the
 * worker to the audit row.
 */
export interface Timing {
  readonly receivedAt: string;
  readonly elapsedMs: number;
}

/**
 * Decides `event` once against a synchronous engine: the same eventId again (Okta retries once)
 * gets the identical reply and reserves nothing new. `port` answers inside one write transaction.
 */
export function decideEvent(
  event: HookEvent,
  port: Port,
  strategies: readonly StrategyName[],
  timing: Timing,
  nowMs: () => number = () => performance.now(),
  personMatch: PersonMatchMode = "off",
): Decided {
  return runSync(decideSteps(event, strategies, timing, nowMs, personMatch), port);
}

/** {@link decideEvent} as steps, for any engine. */
export function* decideSteps(
  event: HookEvent,
  strategies: readonly StrategyName[],
  timing: Timing,
  nowMs: () => number,
  personMatch: PersonMatchMode = "off",
): Steps<Decided> {
  const startedMs = nowMs();
  const inputs = decisionInputs(event);
  // Over the network these go in one round trip: a retry is rare, so the rule's reads are
  // asked along with it.
  yield* prefetch(question("findDecision", event.eventId, inputs), ...firstReads(event));
  const prior = yield* ask("findDecision", event.eventId, inputs);
  if (prior?.sameInputs) return { ...prior.decision, replayed: true, eventIdReused: false };

  const resolution = yield* resolveSteps(event, { strategies, at: timing.receivedAt, personMatch });
  const reply = resolutionReply(resolution);
  const holder = "holder" in resolution ? resolution.holder : null;
  const strategy = resolution.outcome === "resolved" ? resolution.strategy : null;
  const person = "person" in resolution ? resolution.person ?? null : null;
  yield* ask("recordDecision", {
    eventId: event.eventId,
    receivedAt: timing.receivedAt,
    jobId: event.jobId,
    appId: event.appId,
    externalId: event.externalId,
    owner: event.owner,
    ownerSource: event.ownerSource,
    ownerAttribute: event.ownerAttribute,
    inputs,
    action: event.action,
    originalLogin: event.login,
    finalLogin: resolution.outcome === "unresolved"
      ? null
      : resolution.outcome === "skipped" || resolution.outcome === "linked"
      ? event.login
      : resolution.login,
    outcome: resolution.outcome,
    strategy,
    reused: "reused" in resolution && resolution.reused,
    reason: "reason" in resolution ? resolution.reason : null,
    reply,
    durationMs: timing.elapsedMs + nowMs() - startedMs,
    holderStatus: holder?.status ?? null,
    holderOktaUserId: holder?.oktaUserId ?? null,
    person,
  });
  return {
    ...(person === null ? {} : { person: { match: person.match, action: person.action } }),
    reply,
    outcome: resolution.outcome,
    strategy,
    replayed: false,
    eventIdReused: prior !== undefined,
  };
}
