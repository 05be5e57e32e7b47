/**
 * Group commit: the writes of requests that arrive together run one after another inside one
 * `BEGIN IMMEDIATE` transaction (each sees the reservations made before it) and are made durable
 * by one COMMIT, one fsync. Only then are their promises settled, so no answer leaves before its
 * decision is on disk.
 */

import type { DatabaseSync } from "node:sqlite";

/** The whole group's transaction failed; nothing of it was kept. Worth one retry. */
export class CommitError extends Error {
  override name = "CommitError";
}

/** The part of a database connection group commit drives. */
export type TransactionalDb = Pick<DatabaseSync, "exec" | "isTransaction">;

/** Limits on one group. */
export interface GroupCommitOptions {
  /** Most pieces of work in one transaction. */
  readonly maxSize: number;
  /** How long the first piece of work waits for company, in milliseconds (0: the next tick). */
  readonly windowMs: number;
  /** Called after each commit attempt, for logs and benchmarks. */
  readonly onGroup?: (size: number, ok: boolean) => void;
}

interface Pending {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Batches synchronous database work into shared transactions. */
export class GroupCommit {
  readonly #db: TransactionalDb;
  readonly #options: GroupCommitOptions;
  #queue: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  /** Set while a group committed since the event loop last reached its check phase. */
  #idleAgain: ReturnType<typeof setImmediate> | undefined;
  #flushing = false;
  #closed = false;

  /** Drives transactions on `db`, which no one else in this process writes through. */
  constructor(db: TransactionalDb, options: GroupCommitOptions) {
    this.#db = db;
    this.#options = options;
  }

  /**
   * Runs `work` in the next group's transaction and settles once that transaction is committed:
   * with `work`'s result, with `work`'s own error (its writes undone, the group unharmed), or
   * with a {@link CommitError} when the group could not be committed.
   */
  run<T>(work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new CommitError("The database is closing"));
    const promise = new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
    this.#schedule();
    return promise;
  }

  /** Commits what is queued and refuses new work. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    if (this.#idleAgain !== undefined) clearImmediate(this.#idleAgain);
    this.#idleAgain = undefined;
    while (this.#queue.length > 0) this.#flush();
  }

  /**
   * When to commit what is queued. With a window, a timer. Without one: at once when this is the
   * only work and the loop is idle (no group committed since the loop's last check phase), so a
   * lone request pays no scheduling hop; otherwise on `setImmediate`, after the loop has polled
   * for the requests that arrived during the last COMMIT, so they share the next one.
   * (`setTimeout(fn, 0)` costs 1-2 ms per hop in Deno; `setImmediate` a few µs.)
   */
  #schedule(): void {
    const { windowMs, maxSize } = this.#options;
    if (windowMs > 0 && this.#queue.length < maxSize) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#flushNow();
      }, windowMs);
      return;
    }
    if (!this.#flushing && this.#idleAgain === undefined && this.#queue.length === 1) {
      this.#flushNow();
      return;
    }
    this.#immediate ??= setImmediate(() => {
      this.#immediate = undefined;
      this.#flushNow();
    });
  }

  /** Commits every queued group now, then notes that the loop has just been busy. */
  #flushNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) this.#flush();
    } finally {
      this.#flushing = false;
    }
    this.#idleAgain ??= setImmediate(() => {
      this.#idleAgain = undefined;
    });
  }

  #flush(): void {
    const group = this.#queue.splice(0, this.#options.maxSize);
    const db = this.#db;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      db.exec("BEGIN IMMEDIATE");
      for (const item of group) outcomes.push(this.#runOne(item));
      db.exec("COMMIT");
    } catch (error) {
      try {
        if (db.isTransaction) db.exec("ROLLBACK");
      } catch { /* the connection rolls back by itself when it cannot */ }
      this.#options.onGroup?.(group.length, false);
      const failure = new CommitError(`Could not commit ${group.length} decision(s)`, {
        cause: error,
      });
      for (const item of group) item.reject(failure);
      return;
    }
    this.#options.onGroup?.(group.length, true);
    group.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.value);
    });
  }

  /** One piece of work inside a savepoint: its failure undoes its own writes only. */
  #runOne(item: Pending): { ok: boolean; value: unknown } {
    this.#db.exec("SAVEPOINT work");
    try {
      const value = item.work();
      this.#db.exec("RELEASE work");
      return { ok: true, value };
    } catch (error) {
      // If even this fails, the exception aborts the whole group, which is then rolled back.
      this.#db.exec("ROLLBACK TO work");
      this.#db.exec("RELEASE work");
      return { ok: false, value: error };
    }
  }
}
