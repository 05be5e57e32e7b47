/**
 * The decision store on PostgreSQL, on the serving thread (the database does the waiting): group
 * commit as on SQLite, one transaction per group and a savepoint per decision, every answer sent
 * only after its group's COMMIT returned (`synchronous_commit = on`), and every request answered
 * within the deadline, a decision or a {@link CommitError}.
 */

import type { RejectionRecord } from "../decision/audit.ts";
import { type Decided, decideSteps } from "../decision/decide_event.ts";
import type { HookEvent } from "../decision/hook_event.ts";
import { runAsync } from "../decision/steps.ts";
import { ContendedError } from "../decision/resolve_login.ts";
import type { StrategyName } from "../config.ts";
import { messageOf } from "../log.ts";
import { CommitError, type DecisionStore, type Health, type StoreHooks } from "./decision_store.ts";
import {
  connectPostgres,
  guardDriverErrors,
  insertRejection,
  isUniqueViolation,
  migratePostgres,
  pgPort,
} from "./postgres.ts";
import type postgres from "postgres";

/** How the PostgreSQL store connects and groups. */
export interface PgStoreSettings {
  /** `postgres://` URL (TLS by its `sslmode`). */
  readonly url: string;
  readonly strategies: readonly StrategyName[];
  readonly groupCommitMax: number;
  /** Every decision is answered within this many milliseconds of its request's arrival. */
  readonly answerDeadlineMs: number;
  /** Pool size (default 4). */
  readonly poolMax?: number;
}

/** Runs of one group at most, when a deadlock or serialization failure aborts it. */
const GROUP_ATTEMPTS = 3;

/** SQLSTATEs of a wait that ran out or a transaction the database chose to abort: worth a retry. */
const RETRYABLE = new Set(["57014", "55P03", "40001", "40P01", "57P01", "57P02", "57P03"]);

interface Pending {
  readonly event: HookEvent;
  readonly receivedAt: string;
  readonly elapsedMs: number;
  readonly queuedMs: number;
  readonly timer: ReturnType<typeof setTimeout>;
  settled: boolean;
  readonly resolve: (value: Decided) => void;
  readonly reject: (error: unknown) => void;
}

/** Connects, migrates and returns the store; rejects (naming the cause) if it cannot. */
export async function openPgDecisionStore(
  settings: PgStoreSettings,
  hooks: StoreHooks = {},
): Promise<DecisionStore> {
  const unguard = guardDriverErrors((error) =>
    hooks.onError?.("The PostgreSQL driver failed outside a query; it reconnects", error)
  );
  const sql = connectPostgres(settings.url, { max: settings.poolMax ?? 4 });
  try {
    await migratePostgres(sql);
    // Every connection of the pool opened now, not by the first requests.
    await Promise.all(Array.from({ length: settings.poolMax ?? 4 }, () => sql`SELECT 1`));
  } catch (error) {
    await sql.end({ timeout: 1 });
    unguard();
    throw error;
  }
  return new PgDecisionStore(sql, settings, hooks, unguard);
}

class PgDecisionStore implements DecisionStore {
  readonly #sql: postgres.Sql;
  readonly #settings: PgStoreSettings;
  readonly #hooks: StoreHooks;
  #queue: Pending[] = [];
  #running: Promise<void> | null = null;
  #last: Health = { ok: true };
  #closed = false;

  readonly #unguard: () => void;

  constructor(
    sql: postgres.Sql,
    settings: PgStoreSettings,
    hooks: StoreHooks,
    unguard: () => void,
  ) {
    this.#unguard = unguard;
    this.#sql = sql;
    this.#settings = settings;
    this.#hooks = hooks;
  }

  decide(event: HookEvent, timing: { receivedAt: string; elapsedMs: number }): Promise<Decided> {
    if (this.#closed) return Promise.reject(new CommitError("The database is closing"));
    const { promise, resolve, reject } = Promise.withResolvers<Decided>();
    const due = Math.max(0, this.#settings.answerDeadlineMs - timing.elapsedMs);
    const pending: Pending = {
      event,
      ...timing,
      queuedMs: performance.now(),
      // Queued or in a group still running: answered 503 now. A group that commits later is
      // harmless: Okta's retry gets the committed decision replayed.
      timer: setTimeout(() => this.#settle(pending, this.#late()), due),
      settled: false,
      resolve,
      reject,
    };
    this.#queue.push(pending);
    this.#running ??= this.#drain();
    return promise;
  }

  async recordRejection(record: RejectionRecord): Promise<void> {
    await insertRejection(this.#sql, record);
  }

  async health(): Promise<Health> {
    const timeout = new Promise<Health>((resolve) =>
      setTimeout(
        () => resolve({ ok: false, reason: "PostgreSQL did not answer in time" }),
        this.#settings.answerDeadlineMs,
      )
    );
    const ping = this.#sql`SELECT 1`.then(
      (): Health => this.#last,
      (error): Health => ({ ok: false, reason: `PostgreSQL: ${messageOf(error)}` }),
    );
    return await Promise.race([ping, timeout]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
    await this.#sql.end({ timeout: 2 });
    this.#unguard();
  }

  /** Commits groups until the queue is empty; one group at a time. */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = this.#queue.splice(0, this.#settings.groupCommitMax).filter((p) => !p.settled);
      if (group.length > 0) await this.#commit(group);
    }
    this.#running = null;
  }

  /**
   * Commits `group`; a deadlock or serialization failure (two instances taking the same logins
   * in other orders) runs the whole group again, while its deadline allows.
   */
  async #commit(group: Pending[]): Promise<void> {
    for (let attempt = 1;; attempt++) {
      const retry = await this.#attempt(group, attempt < GROUP_ATTEMPTS);
      if (!retry || group.every((p) => p.settled)) return;
    }
  }

  /** One attempt at `group`; true when it should be tried again. */
  async #attempt(group: Pending[], mayRetry: boolean): Promise<boolean> {
    const results: (Decided | Error)[] = [];
    const now = () => performance.now();
    try {
      await this.#sql.begin(async (tx) => {
        for (const p of group) {
          if (p.settled) {
            results.push(this.#late());
            continue;
          }
          const timing = { receivedAt: p.receivedAt, elapsedMs: p.elapsedMs + now() - p.queuedMs };
          const steps = decideSteps(p.event, this.#settings.strategies, timing, now);
          try {
            results.push(await tx.savepoint((sp) => runAsync(steps, pgPort(sp))));
          } catch (error) {
            if (isUniqueViolation(error, "decisions_pkey")) {
              // Another instance decided this eventId meanwhile: its decision is the answer.
              const stored = await pgPort(tx).findDecision(p.event.eventId);
              if (stored !== undefined) {
                results.push({ ...stored, replayed: true });
                continue;
              }
            }
            if (error instanceof ContendedError) throw Object.assign(error, { code: "40001" });
            if (RETRYABLE.has(String((error as { code?: unknown }).code))) throw error;
            results.push(error instanceof Error ? error : new Error(messageOf(error)));
          }
        }
      });
    } catch (error) {
      const code = String((error as { code?: unknown }).code);
      if (mayRetry && (code === "40P01" || code === "40001")) return true;
      const failure = new CommitError(`The group could not be committed: ${messageOf(error)}`, {
        cause: error,
      });
      this.#last = { ok: false, reason: failure.message };
      this.#hooks.onGroup?.(group.length, false);
      for (const p of group) this.#settle(p, failure);
      return false;
    }
    this.#last = { ok: true };
    this.#hooks.onGroup?.(group.length, true);
    group.forEach((p, i) => this.#settle(p, results[i]!));
    return false;
  }

  #settle(p: Pending, outcome: Decided | Error): void {
    if (p.settled) return;
    p.settled = true;
    clearTimeout(p.timer);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }

  #late(): CommitError {
    return new CommitError(
      `Not decided within ${this.#settings.answerDeadlineMs} ms: PostgreSQL is slow or unreachable`,
    );
  }
}
