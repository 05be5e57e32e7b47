/**
 * Group commit's transaction: the writes of requests that arrive together run one after another
 * inside one `BEGIN IMMEDIATE` transaction (each sees the reservations made before it) and are
 * made durable by one COMMIT, one fsync. lib/decision_store.ts decides which requests form a
 * group and answers them only after this returns, so no answer leaves before its decision is on
 * disk.
 */

import type { DatabaseSync } from "node:sqlite";

/** The whole group's transaction failed; nothing of it was kept. Worth one retry. */
export class CommitError extends Error {
  override name = "CommitError";
}

/** The part of a database connection group commit drives. */
export type TransactionalDb = Pick<DatabaseSync, "exec" | "isTransaction">;

/** How one piece of work of a committed group ended. */
export type Settled = { readonly ok: true; readonly value: unknown } | {
  readonly ok: false;
  readonly error: unknown;
};

/**
 * Runs `works` in order inside one `BEGIN IMMEDIATE` transaction, each in a savepoint of its own
 * (a piece that throws has its writes undone and its error returned; the rest go on), then
 * commits them with one COMMIT. Returns only after the COMMIT, with `synchronous=FULL` after its
 * fsync. Throws a {@link CommitError} and keeps nothing when the group cannot be committed.
 */
export function commitGroup(db: TransactionalDb, works: readonly (() => unknown)[]): Settled[] {
  const outcomes: Settled[] = [];
  try {
    db.exec("BEGIN IMMEDIATE");
    for (const work of works) outcomes.push(runOne(db, work));
    db.exec("COMMIT");
  } catch (error) {
    try {
      if (db.isTransaction) db.exec("ROLLBACK");
    } catch { /* the connection rolls back by itself when it cannot */ }
    throw new CommitError(`Could not commit ${works.length} decision(s)`, { cause: error });
  }
  return outcomes;
}

/** One piece of work inside a savepoint: its failure undoes its own writes only. */
function runOne(db: TransactionalDb, work: () => unknown): Settled {
  db.exec("SAVEPOINT work");
  try {
    const value = work();
    db.exec("RELEASE work");
    return { ok: true, value };
  } catch (error) {
    // If even this fails, the exception aborts the whole group, which is then rolled back.
    db.exec("ROLLBACK TO work");
    db.exec("RELEASE work");
    return { ok: false, error };
  }
}
