/**
 * Group commit's transaction: the writes of requests that arrive together run one after another
 * inside one `BEGIN IMMEDIATE` transaction (each sees the reservations made before it) and are
 * made durable by one COMMIT and one sync of the WAL (sqlite_committer.ts). The queue
 * (commit_queue.ts) decides which requests form a group and answers them only after that sync, so
 * no answer leaves before its decision is on disk.
 */

import { inTransaction, type TransactionalDb } from "./database.ts";
import { CommitError } from "./commit_error.ts";

/** How one piece of work of a committed group ended. */
export type Settled = { readonly ok: true; readonly value: unknown } | {
  readonly ok: false;
  readonly error: unknown;
};

/**
 * Runs `works` in order inside one `BEGIN IMMEDIATE` transaction, each in a savepoint of its own
 * (a piece that throws has its writes undone and its error returned; the rest go on), then
 * commits them with one COMMIT. Returns only after the COMMIT (a caller on `synchronous=NORMAL`
 * then syncs the WAL before relying on it). Throws a {@link CommitError} and keeps nothing when
 * the group cannot be committed.
 */
export function commitGroup(db: TransactionalDb, works: readonly (() => unknown)[]): Settled[] {
  try {
    return inTransaction(db, () => works.map((work) => runOne(db, work)));
  } catch (error) {
    throw new CommitError(`Could not commit ${works.length} decision(s)`, { cause: error });
  }
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
