/**
 * Sync: loads every login Okta holds into the login index from the Users API, so the index
 * knows the org as it is now, not only as a CSV export once showed it. Each Okta user's login is
 * upserted; rows the hook, a seed or a link made keep their owner. Safe to run again.
 */

import type { Queryable } from "../store/queryable.ts";
import { type ListedUser, SyncWriter, type UnconfirmedReservation } from "../store/sync_store.ts";

export type { ListedUser, UnconfirmedReservation } from "../store/sync_store.ts";

/** Users per page: Okta's default and documented maximum. */
export const PAGE_LIMIT = 200;

/** Only what the sync needs from each user (a smaller payload; Okta may ignore it). */
const FIELDS = "id,status,profile:(login)";

/** The fields asked for, with the person attribute when one is set. */
function fields(personAttribute: string | null): string {
  return personAttribute === null ? FIELDS : `id,status,profile:(login,${personAttribute})`;
}

/** The two listings, asking for `personAttribute` too when one is set. */
export function syncPasses(personAttribute: string | null): readonly SyncPass[] {
  if (personAttribute === null) return SYNC_PASSES;
  return [
    {
      name: "plain list",
      path: `/api/v1/users?${query({ limit: PAGE_LIMIT, fields: fields(personAttribute) })}`,
    },
    {
      name: "DEPROVISIONED search",
      path: `/api/v1/users?${
        query({
          search: 'status eq "DEPROVISIONED"',
          limit: PAGE_LIMIT,
          fields: fields(personAttribute),
        })
      }`,
    },
  ];
}

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
  /** Okta user profile attribute identifying a person across accounts: stored with each login. */
  readonly personAttribute?: string | null;
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
  const passes = syncPasses(options.personAttribute ?? null);
  for (const pass of passes) {
    for await (const page of okta.pages(pass.path)) {
      const listed = page.map((user) => userLogin(user, options.personAttribute ?? null))
        .filter((user) => user !== null);
      const counts = await writer.write(listed);
      totals.pages++;
      totals.users += page.length;
      totals.added += counts.added;
      totals.updated += counts.updated;
      totals.withoutLogin += page.length - listed.length;
      if (pass === passes[1]) deprovisioned += page.length;
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

/** The id, login and status of a listed user, or `null` if the reply lacks the id or login. */
export function userLogin(user: unknown, personAttribute: string | null = null): ListedUser | null {
  if (typeof user !== "object" || user === null) return null;
  const { id, profile, status } = user as {
    id?: unknown;
    profile?: Record<string, unknown> | null;
    status?: unknown;
  };
  const login = profile?.login;
  if (typeof id !== "string" || id === "" || typeof login !== "string") return null;
  const trimmed = login.trim();
  const known = typeof status === "string" && /^[A-Z_]{1,40}$/.test(status) ? status : null;
  const value = personAttribute !== null && profile && Object.hasOwn(profile, personAttribute)
    ? profile[personAttribute]
    : null;
  const person = typeof value === "string" && value.trim() !== "" && value.length <= 256
    ? value.trim()
    : typeof value === "number" && Number.isFinite(value)
    ? String(value)
    : null;
  return trimmed === "" ? null : { id, login: trimmed, status: known, person };
}

/** A query string with `%20` for spaces, as Okta's examples write `search`. */
function query(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`)
    .join("&");
}
