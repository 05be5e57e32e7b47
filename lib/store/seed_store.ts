/**
 * Where `seed` puts the logins it reads: into the login index, held by no one, strategy `seed`,
 * on either engine. A batch is filled into the index in key order (the B-trees then grow from left
 * to right with few page writes); of two rows with one key, the earlier in the file is kept.
 */

import type { DatabaseSync } from "node:sqlite";
import type postgres from "postgres";
import { inTransaction } from "./database.ts";
import { LoginIndex } from "./sqlite_login_index.ts";

/** What an Okta user export says of a login's holder, when its columns are there. */
export interface SeedHolder {
  readonly oktaUserId: string | null;
  readonly status: string | null;
  readonly person: string | null;
}

/** One login to seed: its key (`loginKey`), the login as the file has it, and its holder. */
export type SeedEntry = readonly [key: string, login: string, holder?: SeedHolder];

/** Takes batches of logins, in file order; each resolves to how many were added. */
export interface SeedSink {
  add(batch: readonly SeedEntry[], at: string): Promise<number>;
}

const BATCH_TABLE = "seed_batch";

/** The SQLite index on `db`: each batch staged in a temporary table, one transaction each. */
export function sqliteSeedSink(db: DatabaseSync): SeedSink {
  const index = new LoginIndex(db);
  return {
    add: (batch, at) =>
      Promise.resolve(inTransaction(db, () => {
        db.exec(
          `CREATE TEMP TABLE IF NOT EXISTS ${BATCH_TABLE} (login_key TEXT NOT NULL,
             login TEXT NOT NULL, okta_user_id TEXT, okta_status TEXT, person TEXT)`,
        );
        const stage = db.prepare(
          `INSERT INTO ${BATCH_TABLE} (login_key, login, okta_user_id, okta_status, person)
           VALUES (?, ?, ?, ?, ?)`,
        );
        for (const [key, login, holder] of batch) {
          stage.run(
            key,
            login,
            holder?.oktaUserId ?? null,
            holder?.status ?? null,
            holder?.person ?? null,
          );
        }
        const added = index.reserveSeededFrom(BATCH_TABLE, at);
        db.exec(`DROP TABLE temp.${BATCH_TABLE}`);
        return added;
      }, "DEFERRED")),
  };
}

/** PostgreSQL: one statement per batch, the batch sorted there. */
export function pgSeedSink(sql: postgres.Sql): SeedSink {
  return {
    add: async (batch, at) => {
      if (batch.length === 0) return 0;
      const done = await sql`INSERT INTO logins
          (login_key, login, owner, requested_key, strategy, source, event_id, created_at,
           okta_user_id, okta_status, person)
        SELECT e->>0, e->>1, NULL, NULL, 'seed', 'seed', NULL, ${at}, e->>2, e->>3, e->>4
        FROM jsonb_array_elements(${
        sql.json(
          batch.map((
            [k, l, h],
          ) => [k, l, h?.oktaUserId ?? null, h?.status ?? null, h?.person ?? null]),
        )
      }::jsonb)
             WITH ORDINALITY AS t(e, n)
        ORDER BY (e->>0) COLLATE "C", n
        ON CONFLICT (login_key) DO NOTHING`;
      return done.count;
    },
  };
}
