/**
 * Group commit, written once for every engine: requests that arrive while a group is being
 * committed form the next one, so groups grow with the load and a lone request goes at once
 * (or after `groupCommitWindowMs`, waiting for company). Every item is answered within
 * `answerDeadlineMs` of its request's arrival: with its group's result once that group is
 * durable, or with a {@link CommitError}. An engine only says how one group is committed.
 */

import type { Decided } from "../decision/decide_event.ts";
import { CommitError } from "./commit_error.ts";
import type { StoreItem } from "./worker_protocol.ts";

/** How one item of a committed group ended. */
export type ItemOutcome =
  | { readonly ok: true; readonly value: Decided | null }
  | { readonly ok: false; readonly error: Error };

/** How an engine commits a group: one transaction, durable before it resolves. */
export interface GroupCommitter {
  /**
   * Commits `items` in order in one transaction and resolves, once it is durable, with one
   * outcome per item; rejects (nothing of the group was kept) otherwise.
   */
  commit(items: readonly StoreItem[]): Promise<readonly ItemOutcome[]>;
  /**
   * Commits `items` now, synchronously, durable before it returns, when the engine can without
   * waiting (no lock held elsewhere); `null` when it did not, and nothing of them was answered.
   * Used only for an item alone in flight: it skips the hand-off to another thread.
   */
  commitNow?(items: readonly StoreItem[]): readonly ItemOutcome[] | null;
}

/** How groups are formed and how long an item may wait. */
export interface QueueSettings {
  /** Most items in one group. */
  readonly groupCommitMax: number;
  /** How long an item arriving at an idle queue waits for company, in milliseconds. */
  readonly groupCommitWindowMs: number;
  /** Every item is answered within this many milliseconds of its request's arrival. */
  readonly answerDeadlineMs: number;
  /**
   * An item older than this (since its request arrived) when its group is formed is refused
   * then: sent, it could not be answered in time even if the commit began at once.
   */
  readonly sendCutoffMs: number;
  /** Why a late item was not decided, for its CommitError ("the database is busy"). */
  readonly lateReason: string;
}

/** What the queue reports: each group's size and whether it was committed. */
export type GroupListener = (size: number, committed: boolean) => void;

interface Pending {
  readonly item: StoreItem;
  /** When it was queued (this thread's clock), to add its wait to `elapsedMs` when sent. */
  readonly queuedMs: number;
  /** When its request arrived (this thread's clock). */
  readonly arrivedMs: number;
  /** Refuses it at its deadline, queued or in a group still committing. */
  readonly timer: ReturnType<typeof setTimeout>;
  settled: boolean;
  readonly resolve: (value: Decided | null) => void;
  readonly reject: (error: unknown) => void;
}

/** The queue in front of one engine: one group in flight at a time. */
export class CommitQueue {
  readonly #committer: GroupCommitter;
  readonly #settings: QueueSettings;
  readonly #onGroup: GroupListener;
  #queue: Pending[] = [];
  /** The group being committed, if any. */
  #inFlight: Pending[] | null = null;
  #window: ReturnType<typeof setTimeout> | undefined;
  /** Set once the queue stopped taking items: why each later one is refused. */
  #ended: string | null = null;
  #drained: PromiseWithResolvers<void> | null = null;

  constructor(
    committer: GroupCommitter,
    settings: QueueSettings,
    onGroup: GroupListener = () => {},
  ) {
    this.#committer = committer;
    this.#settings = settings;
    this.#onGroup = onGroup;
  }

  /** Why new items are refused, or `null` while they are taken. */
  get ended(): string | null {
    return this.#ended;
  }

  /**
   * Queues `item`; settles with its outcome once its group is durable, or with a CommitError.
   * `alone`: nothing else is in flight, so when no group is either, the engine may commit it at
   * once on this thread ({@link GroupCommitter.commitNow}); there is no one to share a group with.
   */
  submit(item: StoreItem, alone = false): Promise<Decided | null> {
    if (this.#ended !== null) return Promise.reject(new CommitError(this.#ended));
    if (
      alone && this.#inFlight === null && this.#queue.length === 0 &&
      this.#window === undefined && this.#committer.commitNow !== undefined
    ) {
      const outcome = this.#committer.commitNow([item])?.[0];
      if (outcome !== undefined) {
        this.#onGroup(1, true);
        return outcome.ok ? Promise.resolve(outcome.value) : Promise.reject(outcome.error);
      }
    }
    const { promise, resolve, reject } = Promise.withResolvers<Decided | null>();
    const queuedMs = performance.now();
    const arrivedMs = queuedMs - (item.kind === "decide" ? item.elapsedMs : 0);
    const due = Math.max(0, arrivedMs + this.#settings.answerDeadlineMs - queuedMs);
    const pending: Pending = {
      item,
      queuedMs,
      arrivedMs,
      // A group that commits after this is harmless: Okta's retry gets the decision replayed.
      timer: setTimeout(() => this.#expire(pending), due),
      settled: false,
      resolve,
      reject,
    };
    this.#queue.push(pending);
    const { groupCommitWindowMs: windowMs, groupCommitMax: maxSize } = this.#settings;
    if (this.#inFlight !== null) return promise;
    if (windowMs > 0 && this.#queue.length < maxSize) {
      this.#window ??= setTimeout(() => this.#send(), windowMs);
    } else {
      this.#send();
    }
    return promise;
  }

  /** Refuses new items; resolves once every queued and in-flight item is settled. */
  async drain(reason: string): Promise<void> {
    this.#ended ??= reason;
    this.#send();
    if (this.#inFlight === null && this.#queue.length === 0) return;
    this.#drained ??= Promise.withResolvers();
    await this.#drained.promise;
  }

  /** The engine is gone: every waiting item is refused with `reason`, and every later one. */
  fail(reason: string): void {
    this.#ended = reason;
    clearTimeout(this.#window);
    const failure = new CommitError(reason);
    for (const pending of [...(this.#inFlight ?? []), ...this.#queue]) settle(pending, failure);
    this.#inFlight = null;
    this.#queue = [];
    this.#drained?.resolve();
  }

  /** An item's deadline came: answer it now; if queued, it is never sent. */
  #expire(pending: Pending): void {
    const at = this.#queue.indexOf(pending);
    if (at !== -1) this.#queue.splice(at, 1);
    settle(pending, this.#late());
    this.#checkDrained();
  }

  #late(): CommitError {
    return new CommitError(
      `Not decided within ${this.#settings.answerDeadlineMs} ms: ${this.#settings.lateReason}`,
    );
  }

  /** Sends the next group unless one is being committed. */
  #send(): void {
    clearTimeout(this.#window);
    this.#window = undefined;
    if (this.#inFlight !== null) return;
    const now = performance.now();
    while (
      this.#queue.length > 0 && now - this.#queue[0]!.arrivedMs > this.#settings.sendCutoffMs
    ) {
      settle(this.#queue.shift()!, this.#late());
    }
    if (this.#queue.length === 0) return this.#checkDrained();
    const group = this.#queue.splice(0, this.#settings.groupCommitMax);
    this.#inFlight = group;
    const items = group.map(({ item, queuedMs }) =>
      item.kind === "decide" ? { ...item, elapsedMs: item.elapsedMs + now - queuedMs } : item
    );
    this.#committer.commit(items).then(
      (outcomes) => this.#settleGroup(group, outcomes),
      (error: unknown) => this.#settleGroup(group, error),
    );
  }

  #settleGroup(group: Pending[], result: readonly ItemOutcome[] | unknown): void {
    if (this.#inFlight !== group) return; // failed meanwhile: already answered
    this.#inFlight = null;
    // The next group goes before this one's answers, so the engine is never idle while we are.
    this.#send();
    const outcomes = Array.isArray(result) ? result as readonly ItemOutcome[] : null;
    this.#onGroup(group.length, outcomes !== null);
    if (outcomes === null) {
      const failure = result instanceof CommitError
        ? result
        : new CommitError(`The group could not be committed: ${String(result)}`, { cause: result });
      for (const pending of group) settle(pending, failure);
    } else {
      group.forEach((pending, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) settle(pending, null, outcome.value);
        else settle(pending, outcome?.error ?? new Error("The engine sent no result"));
      });
    }
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#inFlight === null && this.#queue.length === 0) this.#drained?.resolve();
  }
}

function settle(pending: Pending, error: unknown, value: Decided | null = null): void {
  if (pending.settled) return;
  pending.settled = true;
  clearTimeout(pending.timer);
  if (error === null) pending.resolve(value);
  else pending.reject(error);
}
