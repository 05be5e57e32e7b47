/**
 * Where decisions are made and written: a worker thread that owns the database connection (see
 * lib/decision_worker.ts). The serving thread queues each decision here; one group at a time goes
 * to the worker, which runs it in one transaction and answers after its COMMIT and fsync. While
 * the worker waits on the disk, the serving thread keeps reading and parsing requests, and they
 * form the next group: groups grow with the load, and a lone request is sent at once.
 */

import type { RejectionRecord } from "../decision/audit.ts";
import type { Decided } from "../decision/decide_event.ts";
import type { HookEvent } from "../decision/hook_event.ts";
import type { FromWorker, Health, StoreItem, StoreSettings, ToWorker } from "./worker_protocol.ts";

export type { Health, StoreSettings } from "./worker_protocol.ts";

/** The whole group's transaction failed; nothing of it was kept. Worth one retry (503). */
export class CommitError extends Error {
  override name = "CommitError";
}

interface Pending {
  readonly item: StoreItem;
  /** When it was queued (this thread's clock), to add its wait to `elapsedMs` when sent. */
  readonly queuedMs: number;
  /** When its request arrived (this thread's clock): its answer is due a deadline later. */
  readonly arrivedMs: number;
  /** Refuses it if it is still queued when its deadline comes. */
  readonly timer: ReturnType<typeof setTimeout>;
  readonly resolve: (value: Decided | null) => void;
  readonly reject: (error: unknown) => void;
}

/** Decides and records, durably, off the serving thread. */
export interface DecisionStore {
  /**
   * Decides `event` in the next group; settles once that group is committed, with the decision,
   * or with a {@link CommitError} when the group could not be committed (nothing of it was kept).
   */
  decide(event: HookEvent, timing: { receivedAt: string; elapsedMs: number }): Promise<Decided>;
  /** Records a refused request in the next group. */
  recordRejection(record: RejectionRecord): Promise<void>;
  /**
   * Whether decisions can be committed: the worker runs, its connection answers, the last group
   * committed, the file at `DB_PATH` is still the one open, and the disk has room.
   */
  health(): Promise<Health>;
  /** Commits what is queued, closes the database and ends the worker. */
  close(): Promise<void>;
}

/** What the store reports, for logs, tests and benchmarks. */
export interface StoreHooks {
  /** The worker failed; every waiting and later item was refused. */
  readonly onError?: (message: string, error: unknown) => void;
  /** A group came back from the worker: its size, and whether it was committed. */
  readonly onGroup?: (size: number, committed: boolean) => void;
}

/** The database worker's module (lib/decision_worker.ts). */
export const DECISION_WORKER_URL: URL = new URL("./decision_worker.ts", import.meta.url);

/**
 * Starts the worker and opens (and migrates) the database there; rejects if it cannot.
 * `workerUrl` is for tests that need a worker which fails.
 */
export async function openDecisionStore(
  settings: StoreSettings,
  hooks: StoreHooks = {},
  workerUrl: URL = DECISION_WORKER_URL,
): Promise<DecisionStore> {
  const worker = new Worker(workerUrl.href, { type: "module" });
  const store = new WorkerStore(worker, settings, hooks);
  await store.opened;
  return store;
}

class WorkerStore implements DecisionStore {
  readonly opened: Promise<void>;
  readonly #worker: Worker;
  readonly #settings: StoreSettings;
  readonly #hooks: StoreHooks;
  #queue: Pending[] = [];
  /** The group the worker is committing, if any: at most one at a time. */
  #inFlight: Pending[] | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #pings: ((health: Health) => void)[] = [];
  /** Set once the worker failed or closed: every later item is refused. */
  #ended: string | null = null;
  #whenClosed: PromiseWithResolvers<void> = Promise.withResolvers();
  #drained: PromiseWithResolvers<void> | null = null;
  #opened: PromiseWithResolvers<void> = Promise.withResolvers();

  constructor(worker: Worker, settings: StoreSettings, hooks: StoreHooks) {
    this.#worker = worker;
    this.#settings = settings;
    this.#hooks = hooks;
    this.opened = this.#opened.promise;
    worker.onmessage = (message: MessageEvent<FromWorker>) => this.#receive(message.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(`The database worker failed: ${event.message}`, event.error);
    };
    worker.postMessage({ kind: "open", settings } satisfies ToWorker);
  }

  decide(event: HookEvent, timing: { receivedAt: string; elapsedMs: number }): Promise<Decided> {
    return this.#enqueue({ kind: "decide", event, ...timing }) as Promise<Decided>;
  }

  async recordRejection(record: RejectionRecord): Promise<void> {
    await this.#enqueue({ kind: "reject", record });
  }

  health(): Promise<Health> {
    if (this.#ended !== null) return Promise.resolve({ ok: false, reason: this.#ended });
    return new Promise((resolve) => {
      // A worker stuck waiting for another process's lock answers late: that is not healthy.
      const timer = setTimeout(
        () => resolve({ ok: false, reason: "The database worker did not answer in time" }),
        this.#settings.answerDeadlineMs,
      );
      this.#pings.push((health) => {
        clearTimeout(timer);
        resolve(health);
      });
      this.#worker.postMessage({ kind: "ping" } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    if (this.#ended === null) {
      this.#ended = "The database is closing";
      this.#send();
      if (this.#inFlight !== null || this.#queue.length > 0) {
        this.#drained = Promise.withResolvers();
        await this.#drained.promise;
      }
      this.#worker.postMessage({ kind: "close" } satisfies ToWorker);
    }
    await this.#whenClosed.promise;
    this.#worker.terminate();
  }

  #enqueue(item: StoreItem): Promise<Decided | null> {
    if (this.#ended !== null) return Promise.reject(new CommitError(this.#ended));
    const { promise, resolve, reject } = Promise.withResolvers<Decided | null>();
    const queuedMs = performance.now();
    const arrivedMs = queuedMs - (item.kind === "decide" ? item.elapsedMs : 0);
    const due = Math.max(0, arrivedMs + this.#settings.answerDeadlineMs - queuedMs);
    const pending: Pending = {
      item,
      queuedMs,
      arrivedMs,
      timer: setTimeout(() => this.#expire(pending), due),
      resolve,
      reject,
    };
    this.#queue.push(pending);
    const { groupCommitWindowMs: windowMs, groupCommitMax: maxSize } = this.#settings;
    if (this.#inFlight !== null) return promise;
    if (windowMs > 0 && this.#queue.length < maxSize) {
      this.#timer ??= setTimeout(() => this.#send(), windowMs);
    } else {
      this.#send();
    }
    return promise;
  }

  /** A queued item's deadline came before it could be sent: answer it now, decided nothing. */
  #expire(pending: Pending): void {
    const at = this.#queue.indexOf(pending);
    if (at === -1) return;
    this.#queue.splice(at, 1);
    pending.reject(this.#late());
    if (this.#inFlight === null && this.#queue.length === 0) this.#drained?.resolve();
  }

  #late(): CommitError {
    return new CommitError(
      `Not decided within ${this.#settings.answerDeadlineMs} ms: the database is busy`,
    );
  }

  /** Sends the next group to the worker unless it is busy with one. */
  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#inFlight !== null) return;
    // An item that could not be answered in time even if the lock came at once is refused now:
    // sent, it could wait a whole busy timeout more.
    const now = performance.now();
    const { answerDeadlineMs, busyTimeoutMs } = this.#settings;
    const latest = answerDeadlineMs > busyTimeoutMs
      ? answerDeadlineMs - busyTimeoutMs
      : answerDeadlineMs;
    while (this.#queue.length > 0 && now - this.#queue[0]!.arrivedMs > latest) {
      const late = this.#queue.shift()!;
      clearTimeout(late.timer);
      late.reject(this.#late());
    }
    if (this.#queue.length === 0) {
      this.#drained?.resolve();
      return;
    }
    const group = this.#queue.splice(0, this.#settings.groupCommitMax);
    for (const pending of group) clearTimeout(pending.timer);
    this.#inFlight = group;
    const items = group.map(({ item, queuedMs }) =>
      item.kind === "decide" ? { ...item, elapsedMs: item.elapsedMs + now - queuedMs } : item
    );
    this.#worker.postMessage({ kind: "group", items } satisfies ToWorker);
  }

  #receive(message: FromWorker): void {
    switch (message.kind) {
      case "opened":
        return this.#opened.resolve();
      case "failed":
        this.#ended = message.message;
        this.#worker.terminate();
        return this.#opened.reject(new Error(message.message));
      case "committed":
      case "not-committed":
        return this.#settle(message);
      case "pong":
        return this.#pings.shift()?.(message.health);
      case "closed":
        return this.#whenClosed.resolve();
    }
  }

  #settle(message: Extract<FromWorker, { kind: "committed" | "not-committed" }>): void {
    const group = this.#inFlight ?? [];
    this.#inFlight = null;
    // The next group goes before this one's answers, so the worker is never idle while we are.
    this.#send();
    this.#hooks.onGroup?.(group.length, message.kind === "committed");
    if (message.kind === "not-committed") {
      const failure = new CommitError(message.message, { cause: new Error(message.cause) });
      for (const pending of group) pending.reject(failure);
    } else {
      group.forEach((pending, i) => {
        const result = message.results[i];
        if (result?.ok) pending.resolve(result.value);
        else pending.reject(new Error(result?.message ?? "The worker sent no result"));
      });
    }
    if (this.#inFlight === null && this.#queue.length === 0) this.#drained?.resolve();
  }

  /** The worker is gone: every waiting item gets a CommitError, and so does every later one. */
  #fail(message: string, error: unknown): void {
    this.#hooks.onError?.(message, error);
    this.#ended = message;
    const failure = new CommitError(message);
    for (const pending of [...(this.#inFlight ?? []), ...this.#queue]) {
      clearTimeout(pending.timer);
      pending.reject(failure);
    }
    this.#inFlight = null;
    this.#queue = [];
    for (const ping of this.#pings.splice(0)) ping({ ok: false, reason: message });
    this.#opened.reject(new Error(message));
    this.#drained?.resolve();
    this.#whenClosed.resolve();
    this.#worker.terminate();
  }
}
