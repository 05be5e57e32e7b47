/**
 * The one place the engine is chosen: PostgreSQL when `DATABASE_URL` is set, else the SQLite
 * file at `DB_PATH`.
 */

import type { StrategyName } from "../config.ts";
import type { PersonMatchMode } from "../decision/records.ts";
import type { DecisionStore, StoreHooks } from "./decision_store.ts";
import { openPgStore } from "./pg_store.ts";
import { openSqliteStore } from "./sqlite_store.ts";

/** What either engine needs to open the hook's store. */
export interface OpenStoreSettings {
  /** `postgres://` URL, or `null` for SQLite at `dbPath`. */
  readonly databaseUrl: string | null;
  readonly dbPath: string;
  readonly strategies: readonly StrategyName[];
  /** How links and conflicts are judged by PERSON_ATTRIBUTE (default off). */
  readonly personMatch?: PersonMatchMode;
  readonly groupCommitMax: number;
  readonly groupCommitWindowMs: number;
  /** Every decision is answered within this many milliseconds of its request's arrival. */
  readonly answerDeadlineMs: number;
  /** SQLite: how long to wait for another process's write lock. */
  readonly busyTimeoutMs: number;
}

/** Opens (and migrates) the store of the engine the settings name; rejects naming the cause. */
export function openStore(settings: OpenStoreSettings, hooks: StoreHooks): Promise<DecisionStore> {
  const { strategies, groupCommitMax, groupCommitWindowMs, answerDeadlineMs } = settings;
  const common = {
    strategies,
    personMatch: settings.personMatch ?? "off",
    groupCommitMax,
    groupCommitWindowMs,
    answerDeadlineMs,
  } as const;
  if (settings.databaseUrl !== null) {
    return openPgStore({ url: settings.databaseUrl, ...common }, hooks);
  }
  return openSqliteStore(
    { dbPath: settings.dbPath, busyTimeoutMs: settings.busyTimeoutMs, ...common },
    hooks,
  );
}
