/**
 * The login index on SQLite: every login known to be taken (seeded from Okta, flagged by Okta, or
 * handed out by this service) and who holds it. Callers run these in a write transaction, which
 * makes a check followed by a reservation atomic across requests and processes.
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { loginKey } from "../decision/fold_name.ts";
import type { LoginParts } from "../decision/candidates.ts";
import type {
  DecisionRecord,
  LoginEntry,
  LoginSource,
  PriorDecision,
  Reservation,
} from "../decision/records.ts";
import { type Port, runSync } from "../decision/steps.ts";
import { freeSuffixedSteps } from "../decision/suffix.ts";

/** SQL over the `logins` and `suffix_counters` tables. */
export class LoginIndex {
  readonly #get: StatementSync;
  readonly #forOwner: StatementSync;
  readonly #insert: StatementSync;
  readonly #insertIfAbsent: StatementSync;
  readonly #disown: StatementSync;
  readonly #counter: StatementSync;
  readonly #setCounter: StatementSync;
  readonly #db: DatabaseSync;

  /** Prepares the statements on an open, migrated database. */
  constructor(db: DatabaseSync) {
    this.#db = db;
    const columns =
      "login_key AS loginKey, login, owner, requested_key AS requestedKey, strategy, source, " +
      "okta_user_id AS oktaUserId, okta_status AS oktaStatus, person";
    this.#get = db.prepare(`SELECT ${columns} FROM logins WHERE login_key = ?`);
    this.#forOwner = db.prepare(
      `SELECT ${columns} FROM logins WHERE owner = ? AND requested_key = ? LIMIT 1`,
    );
    const insert = `INTO logins
      (login_key, login, owner, requested_key, strategy, source, event_id, created_at, person)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    this.#insert = db.prepare(`INSERT ${insert}`);
    this.#insertIfAbsent = db.prepare(`INSERT OR IGNORE ${insert}`);
    this.#disown = db.prepare(
      "UPDATE logins SET owner = NULL, requested_key = NULL, source = ? WHERE login_key = ?",
    );
    this.#counter = db.prepare("SELECT next_suffix AS n FROM suffix_counters WHERE base_key = ?");
    this.#setCounter = db.prepare(
      "INSERT OR REPLACE INTO suffix_counters (base_key, next_suffix) VALUES (?, ?)",
    );
  }

  /** The entry holding `login` (compared as Okta does), if any. */
  find(login: string): LoginEntry | undefined {
    return this.#get.get(loginKey(login)) as LoginEntry | undefined;
  }

  /** The login `owner` was given before when it asked for `requested`, if any. */
  findForOwner(owner: string, requested: string): LoginEntry | undefined {
    return this.#forOwner.get(owner, loginKey(requested)) as LoginEntry | undefined;
  }

  /** Records `r.login` as taken; throws if it already is (the primary key is the last guard). */
  reserve(r: Reservation): void {
    this.#insert.run(...params(r));
  }

  /** Records `r.login` as taken unless it already is; returns whether a row was added. */
  reserveIfFree(r: Reservation): boolean {
    return Number(this.#insertIfAbsent.run(...params(r)).changes) === 1;
  }

  /**
   * Records the logins of the temporary table `table` (columns `login_key`, `login`,
   * `okta_user_id`, `okta_status`, `person`) as taken by no one, strategy and source `seed`, unless
   * they already are, in key order (of two rows with one key, the first inserted in `table`
   * wins). Returns how many rows were added.
   */
  reserveSeededFrom(table: string, at: string): number {
    const insert = this.#db.prepare(`INSERT OR IGNORE INTO logins
      (login_key, login, owner, requested_key, strategy, source, event_id, created_at,
       okta_user_id, okta_status, person)
      SELECT login_key, login, NULL, NULL, 'seed', 'seed', NULL, ?, okta_user_id, okta_status, person
      FROM temp.${table} ORDER BY login_key, rowid`);
    return Number(insert.run(at).changes);
  }

  /** Keeps `login` taken but no longer by its owner (Okta reported someone else holds it). */
  disown(login: string, source: LoginSource): void {
    this.#disown.run(source, loginKey(login));
  }

  /**
   * A free `<local><n>@<domain>` with n >= 2, or `null` when that login would be too
   * long. A counter per base remembers where the last search ended, so the 10,000th
   * `john.smith` costs a lookup or two, like the 2nd.
   */
  freeSuffixedLogin(parts: LoginParts): string | null {
    return runSync(freeSuffixedSteps(parts), sqlitePort(this));
  }

  /** The counter of numbered logins of `baseKey`: the lowest number that may still be free. */
  suffixCounter(baseKey: string): number | undefined {
    return (this.#counter.get(baseKey) as { n: number } | undefined)?.n;
  }

  /** Sets that counter. */
  setSuffixCounter(baseKey: string, next: number): void {
    this.#setCounter.run(baseKey, next);
  }
}

function params(r: Reservation) {
  return [
    loginKey(r.login),
    r.login,
    r.owner,
    r.requestedKey,
    r.strategy,
    r.source,
    r.eventId,
    r.at,
    r.person ?? null,
  ] as const;
}

/** The audit's part of the rule's questions, answered on the same connection. */
export interface AuditPort {
  findDecision(eventId: string, inputs: string): PriorDecision | undefined;
  recordDecision(d: DecisionRecord): void;
}

/** The rule's questions answered by this index (and `audit`) on the caller's connection. */
export function sqlitePort(index: LoginIndex, audit?: AuditPort): Port {
  const noAudit = (): never => {
    throw new Error("These steps were given no audit");
  };
  return {
    find: (login) => index.find(login),
    findForOwner: (owner, requested) => index.findForOwner(owner, requested),
    reserveIfFree: (r) => index.reserveIfFree(r),
    disown: (login, source) => index.disown(login, source),
    suffixCounter: (baseKey) => index.suffixCounter(baseKey),
    setSuffixCounter: (baseKey, next) => index.setSuffixCounter(baseKey, next),
    findDecision: audit === undefined
      ? noAudit
      : (eventId, inputs) => audit.findDecision(eventId, inputs),
    recordDecision: audit === undefined ? noAudit : (d) => audit.recordDecision(d),
  };
}
