/**
 * The store the hook decides through, on either engine: one {@link CommitQueue} in front of an
 * engine that commits groups (SQLite through its worker, sqlite_store.ts; PostgreSQL on the
 * serving thread, pg_store.ts). The engine is chosen in open_store.ts.
 */

import type { Decided } from "../decision/decide_event.ts";
import type { HookEvent } from "../decision/hook_event.ts";
import type { RejectionRecord } from "../decision/records.ts";
import { CommitQueue, type GroupCommitter, type QueueSettings } from "./commit_queue.ts";
import type { Health } from "./worker_protocol.ts";

/** Decides and records, durably. */
export interface DecisionStore {
  /**
   * Decides `event` in the next group; settles once that group is durable, with the decision,
   * or with a `CommitError` when it was not kept or not decided within the deadline.
   */
  decide(event: HookEvent, timing: DecideTiming): Promise<Decided>;
  /** Records a refused request in the next group. */
  recordRejection(record: RejectionRecord): Promise<void>;
  /** Whether decisions can be committed now, and if not, why (for `/healthz` and the log). */
  health(): Promise<Health>;
  /** Commits what is queued, then closes the engine. */
  close(): Promise<void>;
}

/** When a decision's request arrived, and whether anything else is in flight. */
export interface DecideTiming {
  readonly receivedAt: string;
  /** Milliseconds since the request arrived. */
  readonly elapsedMs: number;
  /** No other request is in flight: the engine may commit it at once, without a group. */
  readonly alone?: boolean;
}

/** What the store reports, for logs, metrics, tests and benchmarks. */
export interface StoreHooks {
  /** The engine failed outside a group (the worker died, the driver lost a connection). */
  readonly onError?: (message: string, error: unknown) => void;
  /** A group was settled: its size, and whether it was committed. */
  readonly onGroup?: (size: number, committed: boolean) => void;
}

/** An engine: how it commits a group, how it reports health, how it closes. */
export interface Engine extends GroupCommitter {
  /** Its own health check; {@link storeOver} bounds it by the answer deadline. */
  health(): Promise<Health>;
  /** The health reason when that check does not answer in time. */
  readonly silentHealth: string;
  /** Closes it once nothing is queued. */
  close(): Promise<void>;
}

/** The store over `engine`: its queue, and health answered within the deadline. */
export function storeOver(
  engine: Engine,
  settings: QueueSettings,
  hooks: StoreHooks = {},
): DecisionStore & { readonly queue: CommitQueue } {
  const queue = new CommitQueue(engine, settings, hooks.onGroup);
  let closed: Promise<void> | null = null;
  return {
    queue,
    decide: (event, { receivedAt, elapsedMs, alone }) =>
      queue.submit({ kind: "decide", event, receivedAt, elapsedMs }, alone) as Promise<Decided>,
    recordRejection: async (record) => {
      await queue.submit({ kind: "reject", record });
    },
    health: () => {
      if (queue.ended !== null) return Promise.resolve({ ok: false, reason: queue.ended });
      return withinDeadline(engine.health(), settings.answerDeadlineMs, engine.silentHealth);
    },
    close: () =>
      closed ??= (async () => {
        await queue.drain("The database is closing");
        await engine.close();
      })(),
  };
}

/** `health`, or unhealthy once `ms` have passed without it: a stuck engine is not healthy. */
async function withinDeadline(
  health: Promise<Health>,
  ms: number,
  reason: string,
): Promise<Health> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<Health>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason }), ms);
  });
  try {
    return await Promise.race([health, late]);
  } finally {
    clearTimeout(timer);
  }
}
