/**
 * PostgreSQL, for more than one host: the same tables, views and audit columns as the SQLite
 * file, versioned in `schema_version`, reached through a bounded pool of the `postgres` driver
 * (TLS by the URL's `sslmode`, reconnecting by itself after a restart or a failover).
 *
 * Correctness across instances rests on the database: `logins.login_key` and
 * `decisions.event_id` are primary keys, every reservation is `INSERT ... ON CONFLICT DO
 * NOTHING` under READ COMMITTED, and a reservation that found its login taken makes the rule look
 * again (docs/architecture.md says why that is enough).
 */

import { LOGIN_CHANGES_VIEW } from "./views.ts";
import postgres from "postgres";
import type { DecisionRecord, PriorDecision, RejectionRecord } from "../decision/records.ts";
import { type DecisionRow, fingerprintOf, priorDecision } from "./fingerprint.ts";
import { loginKey } from "../decision/fold_name.ts";
import type { LoginEntry, LoginSource, Reservation } from "../decision/records.ts";
import type { AsyncPort } from "../decision/steps.ts";

/** A connection pool, or one transaction's connection. */
export type Sql = postgres.Sql | postgres.TransactionSql;

/** Each entry moves the schema one version up; never edit a released entry, append a new one. */
export const PG_MIGRATIONS: readonly string[] = [
  // 1: the schema of SQLite's version 8, in PostgreSQL's words. Times are ISO-8601 text, as there.
  `
  CREATE TABLE logins (
    login_key     text COLLATE "C" PRIMARY KEY,
    login         text NOT NULL,
    owner         text,
    requested_key text COLLATE "C",
    strategy      text NOT NULL,
    source        text NOT NULL,
    event_id      text,
    created_at    text NOT NULL,
    okta_user_id  text,
    seen_at       text,
    okta_status   text
  );
  CREATE INDEX logins_by_owner ON logins (owner, requested_key) WHERE owner IS NOT NULL;
  CREATE INDEX logins_seen_by_sync ON logins (seen_at) WHERE source = 'sync';

  CREATE TABLE suffix_counters (
    base_key    text COLLATE "C" PRIMARY KEY,
    next_suffix integer NOT NULL
  );

  CREATE TABLE decisions (
    event_id            text PRIMARY KEY,
    received_at         text NOT NULL,
    job_id              text,
    app_id              text,
    external_id         text,
    owner               text NOT NULL,
    action              text,
    original_login      text,
    final_login         text,
    outcome             text NOT NULL
                        CHECK (outcome IN ('unchanged', 'resolved', 'unresolved', 'skipped')),
    strategy            text,
    reused              integer NOT NULL DEFAULT 0,
    reason              text,
    status              integer NOT NULL,
    response            text,
    duration_ms         double precision NOT NULL,
    owner_source        text,
    holder_status       text,
    holder_okta_user_id text
  );
  CREATE INDEX decisions_by_job ON decisions (job_id, received_at);
  CREATE INDEX decisions_by_time ON decisions (received_at);

  CREATE TABLE rejections (
    id          bigserial PRIMARY KEY,
    received_at text NOT NULL,
    status      integer NOT NULL,
    reason      text NOT NULL,
    remote_addr text,
    method      text NOT NULL,
    path        text NOT NULL,
    event_id    text,
    count       integer NOT NULL DEFAULT 1,
    last_at     text
  );
  CREATE INDEX rejections_by_time ON rejections (received_at);

  CREATE TABLE releases (
    id          bigserial PRIMARY KEY,
    released_at text NOT NULL,
    login       text NOT NULL,
    owner       text,
    event_id    text,
    reserved_at text NOT NULL,
    reason      text NOT NULL
  );
  CREATE INDEX releases_by_time ON releases (released_at);

  CREATE VIEW job_summary AS
  SELECT job_id,
         string_agg(DISTINCT app_id, ',')                            AS app_ids,
         min(received_at)                                            AS first_at,
         max(received_at)                                            AS last_at,
         (count(*))::int                                                    AS decisions,
         (count(*) FILTER (WHERE outcome = 'unchanged'))::int               AS unchanged,
         (count(*) FILTER (WHERE outcome = 'resolved'))::int                AS resolved,
         (count(*) FILTER (WHERE outcome = 'unresolved'))::int              AS unresolved,
         (count(*) FILTER (WHERE outcome = 'skipped'))::int                 AS skipped,
         (count(*) FILTER (WHERE strategy = 'middle_name'))::int            AS middle_name,
         (count(*) FILTER (WHERE strategy = 'middle_initial'))::int         AS middle_initial,
         (count(*) FILTER (WHERE strategy = 'numeric_suffix'))::int         AS numeric_suffix,
         (count(*) FILTER (WHERE reused = 1))::int                          AS reused,
         round(avg(duration_ms)::numeric, 3)::float8                 AS avg_ms,
         max(duration_ms)                                            AS max_ms
  FROM decisions
  GROUP BY job_id;

${LOGIN_CHANGES_VIEW}

  CREATE VIEW rejections_by_day AS
  SELECT substr(received_at, 1, 10) AS day, status, sum(count)::int AS rejections,
         min(received_at) AS first_at, max(coalesce(last_at, received_at)) AS last_at,
         max(reason) AS example_reason
  FROM rejections
  GROUP BY day, status;
  `,
  // 2 (SQLite's 9): which owner attribute held the owner's id, and each decision's fingerprint
  // (a digest of what the rule read): one eventId may hold several decisions, one per inputs.
  // Decisions from before keep '' and are taken to match any inputs. Who a login's holder is
  // (PERSON_ATTRIBUTE), each decision's judgement of it, and the outcome `linked`.
  `
  ALTER TABLE decisions ADD COLUMN owner_attribute text;
  ALTER TABLE decisions ADD COLUMN fingerprint text COLLATE "C" NOT NULL DEFAULT '';
  ALTER TABLE decisions ADD COLUMN person text;
  ALTER TABLE decisions ADD COLUMN holder_person text;
  ALTER TABLE decisions ADD COLUMN person_match text;
  ALTER TABLE decisions ADD COLUMN person_action text;
  ALTER TABLE decisions DROP CONSTRAINT decisions_pkey;
  ALTER TABLE decisions ADD CONSTRAINT decisions_pkey PRIMARY KEY (event_id, fingerprint);
  ALTER TABLE decisions DROP CONSTRAINT decisions_outcome_check;
  ALTER TABLE decisions ADD CONSTRAINT decisions_outcome_check
    CHECK (outcome IN ('unchanged', 'resolved', 'unresolved', 'skipped', 'linked'));
  ALTER TABLE logins ADD COLUMN person text;
  `,
  // 3 (SQLite's 10): who marked a decision that needed a person handled, when, and why.
  `
  ALTER TABLE decisions ADD COLUMN handled_at text;
  ALTER TABLE decisions ADD COLUMN handled_by text;
  ALTER TABLE decisions ADD COLUMN handled_note text;
  `,
];

/** The schema version this code writes. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** Options for {@link connectPostgres}. */
export interface PgOptions {
  /** Connections at most (default 4). */
  readonly max?: number;
  /** Seconds to wait for a connection before failing (default 2). */
  readonly connectTimeoutS?: number;
  /** Server-side bound on any one statement, in milliseconds (default 800). */
  readonly statementTimeoutMs?: number;
}

/**
 * A pool for `url`, every connection with `synchronous_commit = on` (a COMMIT returns only once
 * the WAL is on disk) and bounded statement and lock waits.
 */
export function connectPostgres(url: string, options: PgOptions = {}): postgres.Sql {
  const statementMs = options.statementTimeoutMs ?? 800;
  return postgres(url, {
    max: options.max ?? 4,
    connect_timeout: options.connectTimeoutS ?? 2,
    idle_timeout: 60,
    max_lifetime: 30 * 60,
    onnotice: () => {},
    prepare: true,
    fetch_types: false,
    connection: {
      application_name: "okta-import-hook",
      synchronous_commit: "on",
      statement_timeout: statementMs,
      lock_timeout: Math.round(statementMs * 0.75),
      idle_in_transaction_session_timeout: 10_000,
    },
  });
}

/** Brings the schema up to date; instances starting together migrate once (advisory lock). */
export async function migratePostgres(sql: postgres.Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(7130460921)`;
    await tx`CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`;
    const rows = await tx`SELECT version FROM schema_version`;
    const current = rows.length === 0 ? 0 : Number(rows[0]!.version);
    if (current > PG_SCHEMA_VERSION) {
      throw new RangeError(
        `Cannot use the database: its schema version ${current} is newer than this service's ${PG_SCHEMA_VERSION}`,
      );
    }
    for (let version = current; version < PG_SCHEMA_VERSION; version++) {
      await tx.unsafe(PG_MIGRATIONS[version]!);
    }
    if (rows.length === 0) await tx`INSERT INTO schema_version VALUES (${PG_SCHEMA_VERSION})`;
    else await tx`UPDATE schema_version SET version = ${PG_SCHEMA_VERSION}`;
  });
}

/** The columns of a {@link LoginEntry}. */
const ENTRY_COLUMNS = `login_key AS "loginKey", login, owner, requested_key AS "requestedKey",
  strategy, source, okta_user_id AS "oktaUserId", okta_status AS "oktaStatus", person`;

/** The rule's questions answered on `sql` (one transaction's connection). */
export function pgPort(sql: Sql): AsyncPort {
  const first = <T>(rows: readonly unknown[]): T | undefined => rows[0] as T | undefined;
  return {
    find: async (login) =>
      first<LoginEntry>(
        await sql.unsafe(`SELECT ${ENTRY_COLUMNS} FROM logins WHERE login_key = $1`, [
          loginKey(login),
        ], { prepare: true }),
      ),
    findForOwner: async (owner, requested) =>
      first<LoginEntry>(
        await sql.unsafe(
          `SELECT ${ENTRY_COLUMNS} FROM logins WHERE owner = $1 AND requested_key = $2 LIMIT 1`,
          [owner, loginKey(requested)],
          { prepare: true },
        ),
      ),
    reserveIfFree: async (r: Reservation) => {
      const done = await sql`INSERT INTO logins
        (login_key, login, owner, requested_key, strategy, source, event_id, created_at, person)
        VALUES (${loginKey(r.login)}, ${r.login}, ${r.owner}, ${r.requestedKey}, ${r.strategy},
                ${r.source}, ${r.eventId}, ${r.at}, ${r.person ?? null})
        ON CONFLICT (login_key) DO NOTHING`;
      return done.count === 1;
    },
    disown: async (login: string, source: LoginSource) => {
      await sql`UPDATE logins SET owner = NULL, requested_key = NULL, source = ${source}
        WHERE login_key = ${loginKey(login)}`;
    },
    suffixCounter: async (baseKey) => {
      const row = first<{ n: number }>(
        await sql`SELECT next_suffix AS n FROM suffix_counters WHERE base_key = ${baseKey}`,
      );
      return row?.n;
    },
    setSuffixCounter: async (baseKey, next) => {
      await sql`INSERT INTO suffix_counters (base_key, next_suffix) VALUES (${baseKey}, ${next})
        ON CONFLICT (base_key)
        DO UPDATE SET next_suffix = greatest(suffix_counters.next_suffix, excluded.next_suffix)`;
    },
    findDecision: async (eventId, inputs): Promise<PriorDecision | undefined> => {
      const fingerprint = fingerprintOf(inputs);
      const row = first<DecisionRow>(
        await sql`SELECT outcome, strategy, status, response, fingerprint FROM decisions
          WHERE event_id = ${eventId}
          ORDER BY fingerprint = ${fingerprint} DESC, fingerprint = '' DESC LIMIT 1`,
      );
      return priorDecision(row, fingerprint);
    },
    recordDecision: async (d: DecisionRecord) => {
      await sql`INSERT INTO decisions
        (event_id, received_at, job_id, app_id, external_id, owner, action, original_login,
         final_login, outcome, strategy, reused, reason, status, response, duration_ms,
         owner_source, holder_status, holder_okta_user_id, owner_attribute, fingerprint,
         person, holder_person, person_match, person_action)
        VALUES (${d.eventId}, ${d.receivedAt}, ${d.jobId}, ${d.appId}, ${d.externalId}, ${d.owner},
                ${d.action}, ${d.originalLogin}, ${d.finalLogin}, ${d.outcome}, ${d.strategy},
                ${d.reused ? 1 : 0}, ${d.reason}, ${d.reply.status}, ${d.reply.body},
                ${Math.round(d.durationMs * 1000) / 1000}, ${d.ownerSource},
                ${d.holderStatus ?? null}, ${d.holderOktaUserId ?? null},
                ${d.ownerAttribute ?? null}, ${fingerprintOf(d.inputs)},
                ${d.person?.incoming ?? null}, ${d.person?.holder ?? null},
                ${d.person?.match ?? null}, ${d.person?.action ?? null})`;
    },
  };
}

/** Writes one refusal row (or one aggregated row) on `sql`. */
export async function insertRejection(sql: Sql, r: RejectionRecord): Promise<void> {
  await sql`INSERT INTO rejections
    (received_at, status, reason, remote_addr, method, path, event_id, count, last_at)
    VALUES (${r.receivedAt}, ${r.status}, ${r.reason}, ${r.remoteAddr}, ${r.method}, ${r.path},
            ${r.eventId}, ${r.count ?? 1}, ${r.lastAt ?? null})`;
}

/** The SQLSTATE PostgreSQL gave `error`, if it is a database error. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Whether `error` is a unique violation of `constraint`. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { constraint_name?: unknown } | null;
  return sqlState(error) === "23505" && e?.constraint_name === constraint;
}

/**
 * Keeps the process alive through the driver's own stray errors. When a connection drops while
 * a write is queued, `postgres` can throw from a timer (its socket already gone); that error
 * reaches no caller and would end the process, though the pool reconnects by itself. Only
 * errors thrown inside the driver's code are stopped (and logged); everything else still ends
 * the process. Returns the function that removes the guard.
 */
export function guardDriverErrors(log: (error: unknown) => void): () => void {
  const fromDriver = (error: unknown): boolean =>
    error instanceof Error &&
    /[\\/]postgres[\\/](?:[\d.]+[\\/])?(?:src|cf|cjs)[\\/]/.test(error.stack ?? "");
  const onError = (event: ErrorEvent) => {
    if (!fromDriver(event.error)) return;
    event.preventDefault();
    log(event.error);
  };
  const onRejection = (event: PromiseRejectionEvent) => {
    if (!fromDriver(event.reason)) return;
    event.preventDefault();
    log(event.reason);
  };
  globalThis.addEventListener("error", onError);
  globalThis.addEventListener("unhandledrejection", onRejection);
  return () => {
    globalThis.removeEventListener("error", onError);
    globalThis.removeEventListener("unhandledrejection", onRejection);
  };
}
