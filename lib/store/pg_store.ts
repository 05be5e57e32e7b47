/**
 * The decision store on PostgreSQL, on the serving thread (the database does the waiting): the
 * same queue as on SQLite (commit_queue.ts), one transaction per group and a savepoint per item,
 * every answer sent only after its group's COMMIT returned (`synchronous_commit = on`).
 */

import { type Decided, decideSteps, decisionInputs } from "../decision/decide_event.ts";
import { runAsync } from "../decision/steps.ts";
import { ContendedError } from "../decision/resolve_login.ts";
import type { StrategyName } from "../config.ts";
import type { PersonMatchMode } from "../decision/records.ts";
import { messageOf } from "../log.ts";
import { CommitError } from "./commit_error.ts";
import type { ItemOutcome } from "./commit_queue.ts";
import { type DecisionStore, type Engine, type StoreHooks, storeOver } from "./decision_store.ts";
import {
  connectPostgres,
  guardDriverErrors,
  insertRejection,
  isUniqueViolation,
  migratePostgres,
  pgPort,
  sqlState,
} from "./postgres.ts";
import type { Health, StoreItem } from "./worker_protocol.ts";
import type postgres from "postgres";

/** How the PostgreSQL store connects and groups. */
export interface PgStoreSettings {
  /** `postgres://` URL (TLS by its `sslmode`). */
  readonly url: string;
  readonly strategies: readonly StrategyName[];
  readonly personMatch?: PersonMatchMode;
  readonly groupCommitMax: number;
  /** How long a request arriving at an idle store waits for company, in milliseconds. */
  readonly groupCommitWindowMs?: number;
  /** Every decision is answered within this many milliseconds of its request's arrival. */
  readonly answerDeadlineMs: number;
  /** Pool size (default 4). */
  readonly poolMax?: number;
}

/** Runs of one group at most, when a deadlock or serialization failure aborts it. */
const GROUP_ATTEMPTS = 3;

/** SQLSTATEs of a wait that ran out or a transaction the database chose to abort: worth a retry. */
const RETRYABLE = new Set(["57014", "55P03", "40001", "40P01", "57P01", "57P02", "57P03"]);

/** Connects, migrates and returns the store; rejects (naming the cause) if it cannot. */
export async function openPgStore(
  settings: PgStoreSettings,
  hooks: StoreHooks = {},
): Promise<DecisionStore> {
  const unguard = guardDriverErrors((error) =>
    hooks.onError?.("The PostgreSQL driver failed outside a query; it reconnects", error)
  );
  const poolMax = settings.poolMax ?? 4;
  const sql = connectPostgres(settings.url, { max: poolMax });
  try {
    await migratePostgres(sql);
    // Every connection of the pool opened now, not by the first requests.
    await Promise.all(Array.from({ length: poolMax }, () => sql`SELECT 1`));
  } catch (error) {
    await sql.end({ timeout: 1 });
    unguard();
    throw error;
  }
  const engine = new PgEngine(sql, settings.strategies, settings.personMatch ?? "off", unguard);
  return storeOver(engine, {
    groupCommitMax: settings.groupCommitMax,
    groupCommitWindowMs: settings.groupCommitWindowMs ?? 0,
    answerDeadlineMs: settings.answerDeadlineMs,
    // No lock wait to allow for: the deadline alone bounds an item, queued or committing.
    sendCutoffMs: settings.answerDeadlineMs,
    lateReason: "PostgreSQL is slow or unreachable",
  }, hooks);
}

class PgEngine implements Engine {
  readonly silentHealth = "PostgreSQL did not answer in time";
  readonly #sql: postgres.Sql;
  readonly #strategies: readonly StrategyName[];
  readonly #personMatch: PersonMatchMode;
  readonly #unguard: () => void;
  #last: Health = { ok: true };

  constructor(
    sql: postgres.Sql,
    strategies: readonly StrategyName[],
    personMatch: PersonMatchMode,
    unguard: () => void,
  ) {
    this.#personMatch = personMatch;
    this.#sql = sql;
    this.#strategies = strategies;
    this.#unguard = unguard;
  }

  /**
   * Commits `items`; a deadlock or serialization failure (two instances taking the same logins
   * in other orders) runs the whole group again, up to {@link GROUP_ATTEMPTS} times.
   */
  async commit(items: readonly StoreItem[]): Promise<readonly ItemOutcome[]> {
    const sentMs = performance.now();
    for (let attempt = 1;; attempt++) {
      try {
        const outcomes = await this.#attempt(items, sentMs);
        this.#last = { ok: true };
        return outcomes;
      } catch (error) {
        const code = sqlState(error);
        if (attempt < GROUP_ATTEMPTS && (code === "40P01" || code === "40001")) continue;
        const failure = new CommitError(`The group could not be committed: ${messageOf(error)}`, {
          cause: error,
        });
        this.#last = { ok: false, reason: failure.message };
        throw failure;
      }
    }
  }

  async health(): Promise<Health> {
    try {
      await this.#sql`SELECT 1`;
      return this.#last;
    } catch (error) {
      return { ok: false, reason: `PostgreSQL: ${messageOf(error)}` };
    }
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 2 });
    this.#unguard();
  }

  /** One run of the group in one transaction; an item's time counts from `sentMs` on. */
  async #attempt(items: readonly StoreItem[], sentMs: number): Promise<ItemOutcome[]> {
    const outcomes: ItemOutcome[] = [];
    const now = () => performance.now();
    await this.#sql.begin(async (tx) => {
      for (const item of items) {
        if (item.kind === "reject") {
          await insertRejection(tx, item.record);
          outcomes.push({ ok: true, value: null });
          continue;
        }
        // Its wait behind the group's earlier items counts towards its duration.
        const timing = { receivedAt: item.receivedAt, elapsedMs: item.elapsedMs + now() - sentMs };
        const steps = decideSteps(item.event, this.#strategies, timing, now, this.#personMatch);
        try {
          const decided: Decided = await tx.savepoint((sp) => runAsync(steps, pgPort(sp)));
          outcomes.push({ ok: true, value: decided });
        } catch (error) {
          if (isUniqueViolation(error, "decisions_pkey")) {
            // Another instance decided this eventId meanwhile: its decision is the answer.
            const prior = await pgPort(tx).findDecision(
              item.event.eventId,
              decisionInputs(item.event),
            );
            if (prior?.sameInputs) {
              const value = { ...prior.decision, replayed: true, eventIdReused: false };
              outcomes.push({ ok: true, value });
              continue;
            }
          }
          if (error instanceof ContendedError) throw Object.assign(error, { code: "40001" });
          if (RETRYABLE.has(sqlState(error) ?? "")) throw error;
          outcomes.push({
            ok: false,
            error: error instanceof Error ? error : new Error(messageOf(error)),
          });
        }
      }
    });
    return outcomes;
  }
}
