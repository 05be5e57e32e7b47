/**
 * One hook event's whole write: answer a replayed eventId from the audit, or resolve the login
 * and record the decision. Runs inside the caller's write transaction.
 */

import type { AuditLog, DecisionRecord } from "./audit.ts";
import type { StrategyName } from "../config.ts";
import type { HookEvent } from "./hook_event.ts";
import type { LoginIndex } from "./login_index.ts";
import { type Reply, resolutionReply } from "./okta_response.ts";
import { firstReads, resolveSteps } from "./resolve_login.ts";
import { ask, type Port, prefetch, question, runSync, sqlitePort, type Steps } from "./steps.ts";

/** What the handler needs to answer and log. */
export interface Decided {
  readonly reply: Reply;
  readonly outcome: DecisionRecord["outcome"];
  /** The strategy that chose a changed login, or `null`. */
  readonly strategy: string | null;
  /** True when the eventId had been decided before and its reply is sent again. */
  readonly replayed: boolean;
}

/** The stores and settings a decision uses. */
export interface DecideDeps {
  readonly index: LoginIndex;
  readonly audit: AuditLog;
  readonly strategies: readonly StrategyName[];
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
 * Decides `event` once: the same eventId again (Okta retries once) gets the identical reply and
 * reserves nothing new. On SQLite, inside the caller's write transaction.
 */
export function decideEvent(
  event: HookEvent,
  deps: DecideDeps,
  timing: Timing,
  nowMs: () => number = () => performance.now(),
): Decided {
  let port = PORTS.get(deps);
  if (port === undefined) PORTS.set(deps, port = sqlitePort(deps.index, deps.audit));
  return runSync(decideSteps(event, deps.strategies, timing, nowMs), port);
}

/** The SQLite answers of each set of deps, made once: the worker decides with one set. */
const PORTS = new WeakMap<DecideDeps, Port>();

/** {@link decideEvent} as steps, for any engine. */
export function* decideSteps(
  event: HookEvent,
  strategies: readonly StrategyName[],
  timing: Timing,
  nowMs: () => number,
): Steps<Decided> {
  const startedMs = nowMs();
  // Over the network these go in one round trip: a retry is rare, so the rule's reads are
  // asked along with it.
  yield* prefetch(question("findDecision", event.eventId), ...firstReads(event));
  const stored = yield* ask("findDecision", event.eventId);
  if (stored !== undefined) return { ...stored, replayed: true };

  const resolution = yield* resolveSteps(event, { strategies, at: timing.receivedAt });
  const reply = resolutionReply(resolution);
  const holder = "holder" in resolution ? resolution.holder : null;
  yield* ask("recordDecision", {
    eventId: event.eventId,
    receivedAt: timing.receivedAt,
    jobId: event.jobId,
    appId: event.appId,
    externalId: event.externalId,
    owner: event.owner,
    ownerSource: event.ownerSource,
    action: event.action,
    originalLogin: event.login,
    finalLogin: resolution.outcome === "unresolved"
      ? null
      : resolution.outcome === "skipped"
      ? event.login
      : resolution.login,
    outcome: resolution.outcome,
    strategy: resolution.outcome === "resolved" ? resolution.strategy : null,
    reused: "reused" in resolution && resolution.reused,
    reason: "reason" in resolution ? resolution.reason : null,
    reply,
    durationMs: timing.elapsedMs + nowMs() - startedMs,
    holderStatus: holder?.status ?? null,
    holderOktaUserId: holder?.oktaUserId ?? null,
  });
  const strategy = resolution.outcome === "resolved" ? resolution.strategy : null;
  return { reply, outcome: resolution.outcome, strategy, replayed: false };
}
