/**
 * The rule's records: what the login index and the audit hold, as plain values. The rule reads
 * and writes them through its port (steps.ts); each engine in lib/store/ stores them.
 */

import type { PersonMatchMode, StrategyName } from "../config.ts";

export type { PersonMatchMode };

/** How a login in the index was chosen: a resolution strategy, or how it came to be known. */
export type LoginStrategy =
  | StrategyName
  | "unchanged"
  | "linked"
  | "okta_conflict"
  | "seed"
  | "sync";

/**
 * Who put a login in the index: the hook's own decision, a seed file, Okta's conflict report, a
 * linked user, or the Okta sync.
 */
export type LoginSource = "hook" | "seed" | "okta_conflict" | "link" | "sync";

/** One row of the index. */
export interface LoginEntry {
  readonly loginKey: string;
  readonly login: string;
  readonly owner: string | null;
  readonly requestedKey: string | null;
  readonly strategy: LoginStrategy;
  readonly source: LoginSource;
  /** The Okta user holding the login, as the last sync saw it (`null`: not seen by a sync). */
  readonly oktaUserId: string | null;
  /** That user's Okta status (ACTIVE, SUSPENDED, DEPROVISIONED, ...), as the last sync saw it. */
  readonly oktaStatus: string | null;
  /** The holder's `PERSON_ATTRIBUTE` value, when known (a sync, a seed, or the hook's user). */
  readonly person?: string | null;
}

/** A login to record as taken. */
export interface Reservation {
  readonly login: string;
  readonly owner: string | null;
  readonly requestedKey: string | null;
  readonly strategy: LoginStrategy;
  readonly source: LoginSource;
  readonly eventId: string | null;
  readonly at: string;
  /** The holder's `PERSON_ATTRIBUTE` value, when known. */
  readonly person?: string | null;
}

/** Where an owner's identity came from; see `importOwner` (owner.ts). */
export type OwnerSource = "attribute" | "app_user_id" | "event";

/** A reply before it becomes an HTTP response: what the audit stores and a replay sends again. */
export interface Reply {
  readonly status: number;
  /** JSON text, or `null` for an empty body. */
  readonly body: string | null;
}

/** How a decision ended: `linked` is a returning person linked to their own account. */
export type Outcome = "unchanged" | "resolved" | "unresolved" | "skipped" | "linked";

/** Whether the incoming user and a login's holder are one person, by `PERSON_ATTRIBUTE`. */
export type PersonMatch = "same" | "different" | "unverified";

/** What was done about it (`PERSON_MATCH=act`): a link refused, or a returning person linked. */
export type PersonAction = "refused_link" | "linked";

/** A judgement of one decision: what was found and what was done. */
export interface PersonJudgement {
  readonly match: PersonMatch;
  /** The incoming user's value (`data.user.profile[PERSON_ATTRIBUTE]`). */
  readonly incoming: string | null;
  /** The holder's value, as the index knows it. */
  readonly holder: string | null;
  /** The holder's Okta user id, when known. */
  readonly holderOktaUserId: string | null;
  readonly action: PersonAction | null;
}

/** One `decisions` row. */
export interface DecisionRecord {
  readonly eventId: string;
  readonly receivedAt: string;
  readonly jobId: string | null;
  readonly appId: string | null;
  readonly externalId: string | null;
  readonly owner: string;
  /** Where the owner came from: the owner attribute, `data.appUser.id`, or the event itself. */
  readonly ownerSource: OwnerSource;
  /** Which of the owner attributes held the owner's id (`ownerSource` "attribute" only). */
  readonly ownerAttribute?: string | null;
  /**
   * What the rule read, as canonical text (`decisionInputs`): the store keeps its fingerprint, so
   * a request under this eventId with other inputs is never answered with this decision.
   */
  readonly inputs: string;
  readonly action: string | null;
  readonly originalLogin: string | null;
  readonly finalLogin: string | null;
  readonly outcome: Outcome;
  readonly strategy: string | null;
  readonly reused: boolean;
  readonly reason: string | null;
  readonly reply: Reply;
  readonly durationMs: number;
  /** The Okta status of the account holding the conflicting login, when a sync saw it. */
  readonly holderStatus?: string | null;
  readonly holderOktaUserId?: string | null;
  /** Whether the incoming user and the holder are one person, and what was done. */
  readonly person?: PersonJudgement | null;
}

/** One `rejections` row: one refusal, or (`count` > 1) several of one kind in one minute. */
export interface RejectionRecord {
  readonly receivedAt: string;
  /** Refusals this row stands for (1 unless aggregated). */
  readonly count?: number;
  /** When the last of them was received (aggregated rows only). */
  readonly lastAt?: string;
  readonly status: number;
  readonly reason: string;
  readonly remoteAddr: string | null;
  readonly method: string;
  readonly path: string;
  readonly eventId: string | null;
}

/** A stored decision, as a replay needs it. */
export interface StoredDecision {
  readonly outcome: Outcome;
  readonly strategy: string | null;
  readonly reply: Reply;
}

/**
 * What the audit holds for an eventId: a decision made from the same inputs (Okta's retry, to be
 * replayed), or only decisions made from other inputs (another request reusing the eventId).
 */
export type PriorDecision =
  | { readonly sameInputs: true; readonly decision: StoredDecision }
  | { readonly sameInputs: false };
