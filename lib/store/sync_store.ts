/**
 * The sync's SQL: upserting the logins Okta lists, pruning sync rows no run saw, and finding and
 * releasing hook reservations Okta never confirmed (lib/okta/sync_logins.ts drives it).
 */

import { loginKey } from "../decision/fold_name.ts";
import { oktaUserOwner } from "../decision/owner.ts";
import type { Queryable } from "./queryable.ts";

/** A listed user as the sync records it. */
export interface ListedUser {
  readonly id: string;
  readonly login: string;
  /** Okta's status (ACTIVE, SUSPENDED, DEPROVISIONED, ...), `null` if the reply lacks it. */
  readonly status: string | null;
  /** The user's `PERSON_ATTRIBUTE` value, when one is set and the user has it. */
  readonly person?: string | null;
}

/** A login the hook reserved that no Okta user held when this sync listed them all. */
export interface UnconfirmedReservation {
  readonly login: string;
  readonly owner: string;
  /** The decision that reserved it. */
  readonly eventId: string | null;
  readonly reservedAt: string;
}

/** The sync's writes, in SQL both engines understand; `at` is this run's start. */
export class SyncWriter {
  readonly #db: Queryable;
  readonly #at: string;

  constructor(db: Queryable, at: string) {
    this.#db = db;
    this.#at = at;
  }

  /** Upserts one page of users in one transaction. */
  write(users: readonly ListedUser[]): Promise<{ added: number; updated: number }> {
    return this.#db.transaction(async (tx) => {
      let added = 0;
      let updated = 0;
      for (const found of users) {
        const key = loginKey(found.login);
        const inserted = await tx.run(
          `INSERT INTO logins
            (login_key, login, owner, requested_key, strategy, source, event_id, created_at,
             okta_user_id, seen_at, okta_status, person)
            VALUES (?, ?, ?, NULL, 'sync', 'sync', NULL, ?, ?, ?, ?, ?)
            ON CONFLICT (login_key) DO NOTHING`,
          [
            key,
            found.login,
            oktaUserOwner(found.id),
            this.#at,
            found.id,
            this.#at,
            found.status,
            found.person ?? null,
          ],
        );
        if (inserted === 1) {
          added++;
        } else {
          // A row the hook, a seed or a link made keeps its owner: only what Okta says is
          // recorded. For a hook row this confirms that Okta created the user it was reserved for.
          await tx.run(
            `UPDATE logins SET okta_user_id = ?, seen_at = ?, okta_status = ?,
               person = coalesce(?, person) WHERE login_key = ?`,
            [found.id, this.#at, found.status, found.person ?? null, key],
          );
          updated++;
        }
      }
      return { added, updated };
    });
  }

  /** Deletes sync rows not seen by this run; hook, seed and link rows are never touched. */
  prune(): Promise<number> {
    return this.#db.transaction((tx) =>
      tx.run("DELETE FROM logins WHERE source = 'sync' AND (seen_at IS NULL OR seen_at < ?)", [
        this.#at,
      ])
    );
  }

  /** Hook reservations made before `before` that this run did not see Okta hold. */
  async unconfirmed(before: string): Promise<UnconfirmedReservation[]> {
    return await this.#db.all(
      `SELECT login, owner, event_id AS "eventId", created_at AS "reservedAt"
       FROM logins WHERE ${UNSEEN_HOOK_ROW} AND created_at < ? ORDER BY created_at, login_key`,
      [this.#at, before],
    ) as unknown as UnconfirmedReservation[];
  }

  /**
   * Releases `rows`, recording each in `releases`, in one transaction; a row the hook re-used or
   * Okta confirmed meanwhile is left alone. Returns how many were released.
   */
  release(rows: readonly UnconfirmedReservation[], reason: string): Promise<number> {
    return this.#db.transaction(async (tx) => {
      let released = 0;
      for (const row of rows) {
        const gone = await tx.run(
          `DELETE FROM logins WHERE login_key = ? AND login = ? AND ${UNSEEN_HOOK_ROW}`,
          [loginKey(row.login), row.login, this.#at],
        );
        if (gone === 0) continue;
        await tx.run(
          `INSERT INTO releases (released_at, login, owner, event_id, reserved_at, reason)
           VALUES (?, ?, ?, ?, ?, ?)`,
          [this.#at, row.login, row.owner, row.eventId, row.reservedAt, reason],
        );
        released++;
      }
      return released;
    });
  }
}

const UNSEEN_HOOK_ROW =
  "source = 'hook' AND owner IS NOT NULL AND (seen_at IS NULL OR seen_at < ?)";
