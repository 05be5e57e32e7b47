/**
 * The messages between the decision store (serving thread) and its database worker. Each side
 * imports this file and neither imports the other.
 */

import type { PersonMatchMode, RejectionRecord } from "../decision/records.ts";
import type { StrategyName } from "../config.ts";
import type { Decided } from "../decision/decide_event.ts";
import type { HookEvent } from "../decision/hook_event.ts";

/** Whether decisions can be committed now, and if not, why (for `/healthz` and the log). */
export type Health = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** How the worker opens the database, and how groups are bounded. */
export interface StoreSettings {
  readonly dbPath: string;
  /** How long to wait for another process's write lock, in milliseconds. */
  readonly busyTimeoutMs: number;
  readonly strategies: readonly StrategyName[];
  /** How links and conflicts are judged by PERSON_ATTRIBUTE. */
  readonly personMatch?: PersonMatchMode;
  /** Most decisions in one transaction. */
  readonly groupCommitMax: number;
  /** How long a request arriving at an idle store waits for company, in milliseconds. */
  readonly groupCommitWindowMs: number;
  /**
   * Every decision is answered (committed, or refused with a CommitError) within this many
   * milliseconds of its request's arrival, however long another process holds the write lock,
   * so Okta's one retry still fits its 3-second budget. Must exceed `busyTimeoutMs`.
   */
  readonly answerDeadlineMs: number;
}

/** One piece of a group: a decision, or a refused request to record. */
export type StoreItem =
  | {
    readonly kind: "decide";
    readonly event: HookEvent;
    readonly receivedAt: string;
    /** Milliseconds since the request arrived (for `duration_ms`). */
    readonly elapsedMs: number;
  }
  | { readonly kind: "reject"; readonly record: RejectionRecord };

/** How one item of a committed group ended. */
export type ItemResult =
  | { readonly ok: true; readonly value: Decided | null }
  | { readonly ok: false; readonly message: string };

/** Messages to the worker. */
export type ToWorker =
  | { readonly kind: "open"; readonly settings: StoreSettings }
  | { readonly kind: "group"; readonly items: readonly StoreItem[] }
  | { readonly kind: "ping" }
  /** A commit succeeded on the serving thread's connection: the last commit did not fail. */
  | { readonly kind: "committed-elsewhere" }
  | { readonly kind: "close" };

/** Messages from the worker, each answering the oldest message of its kind. */
export type FromWorker =
  | { readonly kind: "opened" }
  | { readonly kind: "failed"; readonly message: string }
  | {
    readonly kind: "committed";
    readonly results: readonly ItemResult[];
    /**
     * The worker's clock when the group's COMMIT returned and when the fdatasync of the WAL
     * that followed it returned: the answers leave after both.
     */
    readonly durable: {
      /** The worker's `performance.timeOrigin`, to compare its times with another thread's. */
      readonly origin: number;
      readonly committedMs: number;
      readonly syncedMs: number;
    };
  }
  | { readonly kind: "not-committed"; readonly message: string; readonly cause: string }
  | { readonly kind: "pong"; readonly health: Health }
  | { readonly kind: "closed" };
