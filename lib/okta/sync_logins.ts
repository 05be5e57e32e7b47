/**
 * Sync: loads every login Okta holds into the login index from the Users API, so the index
 * knows the org as it is now, not only as a CSV export once showed it. Each Okta user's login is
 * upserted; rows the hook, a seed or a link made keep their owner. Safe to run again.
 */

import { loginKey } from "../decision/fold_name.ts";
import type { Queryable } from "../store/queryable.ts";
import { oktaUserOwner } from "../decision/owner.ts";

/** Users per page: Okta's default and documented maximum. */
export const PAGE_LIMIT = 200;

/** Only what the sync needs from each user (a smaller payload; Okta may ignore it). */
const FIELDS = "id,status,profile:(login)";

/** One listing of the Users API. */
export interface SyncPass {
  readonly name: string;
  readonly path: string;
}

/**
 * The two listings: a plain list leaves out DEPROVISIONED users, who still hold their logins,
 * so a second pass asks for them by search.
 */
export const SYNC_PASSES: readonly SyncPass[] = [
  { name: "plain list", path: `/api/v1/users?${query({ limit: PAGE_LIMIT, fields: FIELDS })}` },
  {
    name: "DEPROVISIONED search",
    path: `/api/v1/users?${
      query({ search: 'status eq "DEPROVISIONED"', limit: PAGE_LIMIT, fields: FIELDS })
    }`,
  },
];

/** Where the pages come from: an {@link OktaClient} or a stand-in. */
export interface UserPages {
  pages(path: string): AsyncIterable<readonly unknown[]>;
}

/** Counts so far, after each page. */
export interface SyncProgress {
  /** Name of the pass the page belongs to. */
  readonly pass: string;
  readonly pages: number;
  readonly users: number;
  readonly added: number;
  readonly updated: number;
  readonly withoutLogin: number;
}

/** What a sync run did. */
export interface SyncReport extends Omit<SyncProgress, "pass"> {
  /** Users listed by the deprovisioned pass. */
  readonly deprovisioned: number;
  /** Rows released by `prune`; `null` when not pruning. */
  readonly pruned: number | null;
  /** Why pruning was skipped, if it was. */
  readonly pruneSkipped: string | null;
  /** Hook reservations no Okta user holds, older than asked; `null` when not asked. */
  readonly unconfirmed: readonly UnconfirmedReservation[] | null;
  /** How many of them were released (0 unless confirmed). */
  readonly released: number;
  /** Why they were not looked for, if they were not. */
  readonly releaseSkipped: string | null;
}

/** A login the hook reserved that no Okta user held when this sync listed them all. */
export interface UnconfirmedReservation {
  readonly login: string;
  readonly owner: string;
  /** The decision that reserved it. */
  readonly eventId: string | null;
  readonly reservedAt: string;
}

/** Which unconfirmed hook reservations to look for, and whether to release them. */
export interface ReleaseOptions {
  /** Reservations made before this time (ISO 8601) and unseen by this run. */
  readonly reservedBefore: string;
  /** Release them (else only list them). */
  readonly confirm: boolean;
  /** Recorded with each release, in the `releases` table. */
  readonly reason: string;
}

/** Options for {@link syncLogins}. */
export interface SyncOptions {
  /** This run's start (ISO 8601): stored as `seen_at`; prune releases rows seen before it. */
  readonly startedAt: string;
  /** Release sync rows no pass saw, once both passes completed. */
  readonly prune: boolean;
  /** Look for (and perhaps release) hook reservations Okta never confirmed, once both passes completed. */
  readonly release?: ReleaseOptions | null;
  readonly onProgress?: (progress: SyncProgress) => void;
}

/**
 * Lists every Okta user (both passes) and upserts each login into the index of `db`, one
 * `BEGIN IMMEDIATE` transaction per page so the running service is held up only briefly and
 * never while waiting for Okta. An error stops the run with the pages written so far kept, and
 * nothing pruned.
 */
export async function syncLogins(
  db: Queryable,
  okta: UserPages,
  options: SyncOptions,
): Promise<SyncReport> {
  const writer = new SyncWriter(db, options.startedAt);
  const totals = { pages: 0, users: 0, added: 0, updated: 0, withoutLogin: 0 };
  let deprovisioned = 0;
  for (const pass of SYNC_PASSES) {
    for await (const page of okta.pages(pass.path)) {
      const counts = await writer.write(page);
      totals.pages++;
      totals.users += page.length;
      totals.added += counts.added;
      totals.updated += counts.updated;
      totals.withoutLogin += counts.withoutLogin;
      if (pass === SYNC_PASSES[1]) deprovisioned += page.length;
      options.onProgress?.({ pass: pass.name, ...totals });
    }
  }
  // An org always has at least its admin: an empty list means a wrong org or a broken reply, and
  // releasing on it would release every login.
  const emptyOrg = totals.users - deprovisioned === 0 ? "Okta listed no users" : null;
  let pruned: number | null = null;
  let pruneSkipped: string | null = null;
  if (options.prune) {
    if (emptyOrg !== null) pruneSkipped = emptyOrg;
    else pruned = await writer.prune();
  }
  let unconfirmed: UnconfirmedReservation[] | null = null;
  let released = 0;
  let releaseSkipped: string | null = null;
  const release = options.release ?? null;
  if (release !== null) {
    if (emptyOrg !== null) releaseSkipped = emptyOrg;
    else {
      unconfirmed = await writer.unconfirmed(release.reservedBefore);
      if (release.confirm) released = await writer.release(unconfirmed, release.reason);
    }
  }
  return {
    ...totals,
    deprovisioned,
    pruned,
    pruneSkipped,
    unconfirmed,
    released,
    releaseSkipped,
  };
}

/** A listed user as the sync records it. */
export interface ListedUser {
  readonly id: string;
  readonly login: string;
  /** Okta's status (ACTIVE, SUSPENDED, DEPROVISIONED, ...), `null` if the reply lacks it. */
  readonly status: string | null;
}

/** The id, login and status of a listed user, or `null` if the reply lacks the id or login. */
export function userLogin(user: unknown): ListedUser | null {
  if (typeof user !== "object" || user === null) return null;
  const { id, profile, status } = user as {
    id?: unknown;
    profile?: { login?: unknown } | null;
    status?: unknown;
  };
  const login = profile?.login;
  if (typeof id !== "string" || id === "" || typeof login !== "string") return null;
  const trimmed = login.trim();
  const known = typeof status === "string" && /^[A-Z_]{1,40}$/.test(status) ? status : null;
  return trimmed === "" ? null : { id, login: trimmed, status: known };
}

/** SQL for the sync's writes, in words both engines understand. */
class SyncWriter {
  readonly #db: Queryable;
  readonly #at: string;

  constructor(db: Queryable, at: string) {
    this.#db = db;
    this.#at = at;
  }

  /** Upserts one page of users in one transaction. */
  write(
    users: readonly unknown[],
  ): Promise<{ added: number; updated: number; withoutLogin: number }> {
    return this.#db.transaction(async (tx) => {
      let added = 0;
      let updated = 0;
      let withoutLogin = 0;
      for (const user of users) {
        const found = userLogin(user);
        if (found === null) {
          withoutLogin++;
          continue;
        }
        const key = loginKey(found.login);
        const inserted = await tx.run(
          `INSERT INTO logins
            (login_key, login, owner, requested_key, strategy, source, event_id, created_at,
             okta_user_id, seen_at, okta_status)
            VALUES (?, ?, ?, NULL, 'sync', 'sync', NULL, ?, ?, ?, ?)
            ON CONFLICT (login_key) DO NOTHING`,
          [key, found.login, oktaUserOwner(found.id), this.#at, found.id, this.#at, found.status],
        );
        if (inserted === 1) {
          added++;
        } else {
          // A row the hook, a seed or a link made keeps its owner: only what Okta says is
          // recorded. For a hook row this confirms that Okta created the user it was reserved for.
          await tx.run(
            "UPDATE logins SET okta_user_id = ?, seen_at = ?, okta_status = ? WHERE login_key = ?",
            [found.id, this.#at, found.status, key],
          );
          updated++;
        }
      }
      return { added, updated, withoutLogin };
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

/** A query string with `%20` for spaces, as Okta's examples write `search`. */
function query(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`)
    .join("&");
}
