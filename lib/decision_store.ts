/**
 * Where decisions are made and written: a dedicated worker thread that owns the database
 * connection and its group commit. The fsync of each COMMIT then blocks that thread, not the one
 * serving HTTP, which keeps reading and parsing the requests that form the next group.
 */

import type { RejectionRecord } from "./audit.ts";
import type { StrategyName } from "./config.ts";
import type { Decided } from "./decide_event.ts";
import { CommitError } from "./group_commit.ts";
import type { HookEvent } from "./hook_event.ts";

/** How the worker opens the database and groups commits. */
export interface StoreSettings {
  readonly dbPath: string;
  readonly busyTimeoutMs: number;
  readonly strategies: readonly StrategyName[];
  readonly groupCommitMax: number;
  readonly groupCommitWindowMs: number;
}

/** Decides and records, durably, off the serving thread. */
export interface DecisionStore {
  /** Decides `event`; settles after the commit; rejects with {@link CommitError} if it failed. */
  decide(event: HookEvent, timing: { receivedAt: string; elapsedMs: number }): Promise<Decided>;
  /** Records a refused request. */
  recordRejection(record: RejectionRecord): Promise<void>;
  /** Commits what is pending, closes the database and ends the worker. */
  close(): Promise<void>;
}

/** Messages to the worker. */
export type StoreRequest =
  | { readonly kind: "open"; readonly settings: StoreSettings }
  | {
    readonly kind: "decide";
    readonly id: number;
    readonly event: HookEvent;
    readonly receivedAt: string;
    readonly elapsedMs: number;
  }
  | { readonly kind: "reject"; readonly id: number; readonly record: RejectionRecord }
  | { readonly kind: "close" };

/** Messages from the worker. */
export type StoreReply =
  | { readonly kind: "opened" }
  | { readonly kind: "failed"; readonly message: string }
  | { readonly kind: "done"; readonly id: number; readonly value: Decided | null }
  | {
    readonly kind: "error";
    readonly id: number;
    readonly commit: boolean;
    readonly message: string;
    readonly cause: string | null;
  }
  | { readonly kind: "closed" };

/** Starts the worker, opens (and migrates) the database there; rejects if it cannot. */
export async function openDecisionStore(settings: StoreSettings): Promise<DecisionStore> {
  const worker = new Worker(new URL("./decision_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void }
  >();
  let nextId = 0;
  let opened!: (reply: StoreReply) => void;
  const firstReply = new Promise<StoreReply>((resolve) => opened = resolve);
  let closed!: () => void;
  const whenClosed = new Promise<void>((resolve) => closed = resolve);
  worker.onmessage = (message: MessageEvent<StoreReply>) => {
    const reply = message.data;
    if (reply.kind === "opened" || reply.kind === "failed") return opened(reply);
    if (reply.kind === "closed") return closed();
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.kind === "done") waiting?.resolve(reply.value);
    else {
      const cause = reply.cause === null ? undefined : { cause: new Error(reply.cause) };
      waiting?.reject(
        reply.commit ? new CommitError(reply.message, cause) : new Error(reply.message, cause),
      );
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    const error = new CommitError(`The database worker failed: ${event.message}`);
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
    opened({ kind: "failed", message: event.message });
    closed();
  };
  worker.postMessage({ kind: "open", settings } satisfies StoreRequest);
  const first = await firstReply;
  if (first.kind === "failed") {
    worker.terminate();
    throw new Error(first.message);
  }

  const send = <T>(request: (id: number) => StoreRequest): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage(request(id));
    });
  return {
    decide: (event, timing) => send<Decided>((id) => ({ kind: "decide", id, event, ...timing })),
    recordRejection: (record) => send<void>((id) => ({ kind: "reject", id, record })),
    async close() {
      worker.postMessage({ kind: "close" } satisfies StoreRequest);
      await whenClosed;
      worker.terminate();
    },
  };
}
