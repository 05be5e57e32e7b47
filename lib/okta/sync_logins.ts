/**
 * Sync: loads every login Okta holds into the login index from the Users API, so the index
 * knows the org as it is now, not only as a CSV export once showed it. Each Okta user's login is
 * upserted; rows the hook, a seed or a link made keep their owner. Safe to run again.
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { loginKey } from "../decision/fold_name.ts";
import { inTransaction } from "../store/database.ts";
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
}

/** Options for {@link syncLogins}. */
export interface SyncOptions {
  /** This run's start (ISO 8601): stored as `seen_at`; prune releases rows seen before it. */
  readonly startedAt: string;
  /** Release sync rows no pass saw, once both passes completed. */
  readonly prune: boolean;
  readonly onProgress?: (progress: SyncProgress) => void;
}

/**
 * Lists every Okta user (both passes) and upserts each login into the index of `db`, one
 * `BEGIN IMMEDIATE` transaction per page so the running service is held up only briefly and
 * never while waiting for Okta. An error stops the run with the pages written so far kept, and
 * nothing pruned.
 */
export async function syncLogins(
  db: DatabaseSync,
  okta: UserPages,
  options: SyncOptions,
): Promise<SyncReport> {
  const writer = new SyncWriter(db, options.startedAt);
  const totals = { pages: 0, users: 0, added: 0, updated: 0, withoutLogin: 0 };
  let deprovisioned = 0;
  for (const pass of SYNC_PASSES) {
    for await (const page of okta.pages(pass.path)) {
      const counts = writer.write(page);
      totals.pages++;
      totals.users += page.length;
      totals.added += counts.added;
      totals.updated += counts.updated;
      totals.withoutLogin += counts.withoutLogin;
      if (pass === SYNC_PASSES[1]) deprovisioned += page.length;
      options.onProgress?.({ pass: pass.name, ...totals });
    }
  }
  let pruned: number | null = null;
  let pruneSkipped: string | null = null;
  if (options.prune) {
    // An org always has at least its admin: an empty list means a wrong org or a broken
    // reply, and pruning on it would release every synced login.
    if (totals.users - deprovisioned === 0) pruneSkipped = "Okta listed no users";
    else pruned = writer.prune();
  }
  return { ...totals, deprovisioned, pruned, pruneSkipped };
}

/** The id and login of a listed user, or `null` if the reply lacks either. */
export function userLogin(user: unknown): { id: string; login: string } | null {
  if (typeof user !== "object" || user === null) return null;
  const { id, profile } = user as { id?: unknown; profile?: { login?: unknown } | null };
  const login = profile?.login;
  if (typeof id !== "string" || id === "" || typeof login !== "string") return null;
  const trimmed = login.trim();
  return trimmed === "" ? null : { id, login: trimmed };
}

/** SQL for the sync's writes. */
class SyncWriter {
  readonly #db: DatabaseSync;
  readonly #at: string;
  readonly #insert: StatementSync;
  readonly #touch: StatementSync;
  readonly #prune: StatementSync;

  constructor(db: DatabaseSync, at: string) {
    this.#db = db;
    this.#at = at;
    this.#insert = db.prepare(`INSERT OR IGNORE INTO logins
      (login_key, login, owner, requested_key, strategy, source, event_id, created_at,
       okta_user_id, seen_at)
      VALUES (?, ?, ?, NULL, 'sync', 'sync', NULL, ?, ?, ?)`);
    // A row the hook, a seed or a link made keeps its owner: only what Okta says is recorded.
    this.#touch = db.prepare("UPDATE logins SET okta_user_id = ?, seen_at = ? WHERE login_key = ?");
    this.#prune = db.prepare(
      "DELETE FROM logins WHERE source = 'sync' AND (seen_at IS NULL OR seen_at < ?)",
    );
  }

  /** Upserts one page of users in one transaction. */
  write(users: readonly unknown[]): { added: number; updated: number; withoutLogin: number } {
    let added = 0;
    let updated = 0;
    let withoutLogin = 0;
    this.#transaction(() => {
      for (const user of users) {
        const found = userLogin(user);
        if (found === null) {
          withoutLogin++;
          continue;
        }
        const key = loginKey(found.login);
        const inserted = this.#insert.run(
          key,
          found.login,
          oktaUserOwner(found.id),
          this.#at,
          found.id,
          this.#at,
        );
        if (Number(inserted.changes) === 1) {
          added++;
        } else {
          this.#touch.run(found.id, this.#at, key);
          updated++;
        }
      }
    });
    return { added, updated, withoutLogin };
  }

  /** Deletes sync rows not seen by this run; hook, seed and link rows are never touched. */
  prune(): number {
    let deleted = 0;
    this.#transaction(() => {
      deleted = Number(this.#prune.run(this.#at).changes);
    });
    return deleted;
  }

  #transaction(work: () => void): void {
    inTransaction(this.#db, work);
  }
}

/** A query string with `%20` for spaces, as Okta's examples write `search`. */
function query(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`)
    .join("&");
}
