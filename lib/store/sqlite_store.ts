/**
 * The decision store on SQLite: a worker thread owns a connection (decision_worker.ts) and
 * commits each group it is sent in one transaction, answering after its COMMIT and the fdatasync
 * of the WAL. While the worker waits on the disk, the serving thread keeps reading and parsing
 * requests, and the queue (commit_queue.ts) forms them into the next group. A request alone in
 * flight, with no group in flight either, is committed on the serving thread's own connection
 * instead (the same code, sqlite_committer.ts): there is no one to group it with, and the two
 * thread hops are a fifth of its time at one connection.
 */

import { CommitError } from "./commit_error.ts";
import type { ItemOutcome } from "./commit_queue.ts";
import { type DecisionStore, type Engine, type StoreHooks, storeOver } from "./decision_store.ts";
import type {
  FromWorker,
  Health,
  ItemResult,
  StoreItem,
  StoreSettings,
  ToWorker,
} from "./worker_protocol.ts";
import { type Committer, openCommitter } from "./sqlite_committer.ts";

/** The database worker's module. */
export const DECISION_WORKER_URL: URL = new URL("./decision_worker.ts", import.meta.url);

/**
 * Starts the worker and opens (and migrates) the database there; rejects if it cannot.
 * `workerUrl` is for tests that need a worker which fails: such a worker has no database behind
 * it, so this thread opens no connection of its own either, and every request goes to it.
 */
export async function openSqliteStore(
  settings: StoreSettings,
  hooks: StoreHooks = {},
  workerUrl: URL = DECISION_WORKER_URL,
): Promise<DecisionStore> {
  const engine = new WorkerEngine(new Worker(workerUrl.href, { type: "module" }), settings);
  const { answerDeadlineMs, busyTimeoutMs } = settings;
  const store = storeOver(engine, {
    groupCommitMax: settings.groupCommitMax,
    groupCommitWindowMs: settings.groupCommitWindowMs,
    answerDeadlineMs,
    // Sent later than this, an item could wait a whole busy timeout more for the lock.
    sendCutoffMs: answerDeadlineMs > busyTimeoutMs
      ? answerDeadlineMs - busyTimeoutMs
      : answerDeadlineMs,
    lateReason: "the database is busy",
  }, hooks);
  engine.onFailure = (message, error) => {
    hooks.onError?.(message, error);
    store.queue.fail(message);
  };
  await engine.opened;
  // The worker has migrated the file; this thread's own connection commits a request that is
  // alone in flight. It never waits for a lock (busy timeout 0): a lock held elsewhere sends the
  // request to the worker, which waits off this thread.
  if (workerUrl === DECISION_WORKER_URL) {
    engine.own(openCommitter({ ...settings, busyTimeoutMs: 0 }));
  }
  return store;
}

/** A committed group's results as the queue takes them. */
function outcomesOf(results: readonly ItemResult[]): readonly ItemOutcome[] {
  return results.map((result): ItemOutcome =>
    result.ok ? { ok: true, value: result.value } : { ok: false, error: new Error(result.message) }
  );
}

/** The worker as an engine: one group in flight, answered by the worker's next group reply. */
class WorkerEngine implements Engine {
  readonly opened: Promise<void>;
  readonly silentHealth = "The database worker did not answer in time";
  onFailure: (message: string, error: unknown) => void = () => {};
  readonly #worker: Worker;
  #group: PromiseWithResolvers<readonly ItemOutcome[]> | null = null;
  readonly #pings: ((health: Health) => void)[] = [];
  /** Set once the worker failed or closed. */
  #ended: string | null = null;
  readonly #opened = Promise.withResolvers<void>();
  readonly #closed = Promise.withResolvers<void>();
  /** This thread's own connection, for {@link commitNow}. */
  #own: Committer | null = null;
  /** The worker's last group failed: its health says so until a commit succeeds somewhere. */
  #workerFailed = false;

  constructor(worker: Worker, settings: StoreSettings) {
    this.#worker = worker;
    this.opened = this.#opened.promise;
    worker.onmessage = (message: MessageEvent<FromWorker>) => this.#receive(message.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(`The database worker failed: ${event.message}`, event.error);
    };
    worker.postMessage({ kind: "open", settings } satisfies ToWorker);
  }

  /** Commits on this thread's own connection from now on, when a request is alone. */
  own(committer: Committer): void {
    this.#own = committer;
  }

  /**
   * Decides, commits and syncs `items` on this thread, skipping the two thread hops of a group
   * (about 0.2 ms at one connection; docs/performance.md). `null` (nothing answered) when that
   * did not commit them durably: the lock is held elsewhere, the disk failed, the file is gone.
   * The worker then takes them as a group and says what is wrong; what was committed here is
   * found there and replayed, and made durable by the worker's own sync of the same WAL.
   */
  commitNow(items: readonly StoreItem[]): readonly ItemOutcome[] | null {
    if (this.#own === null || this.#ended !== null) return null;
    const reply = this.#own.commit(items);
    if (reply.kind !== "committed") return null;
    if (this.#workerFailed) {
      this.#workerFailed = false;
      this.#worker.postMessage({ kind: "committed-elsewhere" } satisfies ToWorker);
    }
    return outcomesOf(reply.results);
  }

  commit(items: readonly StoreItem[]): Promise<readonly ItemOutcome[]> {
    if (this.#ended !== null) return Promise.reject(new CommitError(this.#ended));
    this.#group = Promise.withResolvers();
    this.#worker.postMessage({ kind: "group", items } satisfies ToWorker);
    return this.#group.promise;
  }

  health(): Promise<Health> {
    if (this.#ended !== null) return Promise.resolve({ ok: false, reason: this.#ended });
    const { promise, resolve } = Promise.withResolvers<Health>();
    this.#pings.push(resolve);
    this.#worker.postMessage({ kind: "ping" } satisfies ToWorker);
    return promise;
  }

  async close(): Promise<void> {
    this.#own?.close();
    this.#own = null;
    if (this.#ended === null) {
      this.#ended = "The database is closing";
      this.#worker.postMessage({ kind: "close" } satisfies ToWorker);
    }
    await this.#closed.promise;
    this.#worker.terminate();
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
        this.#workerFailed = false;
        return this.#takeGroup()?.resolve(outcomesOf(message.results));
      case "not-committed":
        this.#workerFailed = true;
        return this.#takeGroup()?.reject(
          new CommitError(message.message, { cause: new Error(message.cause) }),
        );
      case "pong":
        return this.#pings.shift()?.(message.health);
      case "closed":
        return this.#closed.resolve();
    }
  }

  #takeGroup(): PromiseWithResolvers<readonly ItemOutcome[]> | null {
    const group = this.#group;
    this.#group = null;
    return group;
  }

  /** The worker is gone: its group and every later one fail, and so does health. */
  #fail(message: string, error: unknown): void {
    this.#ended = message;
    this.#takeGroup()?.reject(new CommitError(message));
    for (const ping of this.#pings.splice(0)) ping({ ok: false, reason: message });
    this.#opened.reject(new Error(message));
    this.#closed.resolve();
    this.#worker.terminate();
    this.onFailure(message, error);
  }
}
