/**
 * `deno task sync [--prune]`: argument parsing, configuration and reporting around
 * {@link syncLogins}.
 */

import { readPersonAttribute } from "../identity_settings.ts";
import { parseArgs } from "node:util";
import { ConfigError, DATA_DIR, redactedUrl } from "../config.ts";
import { messageOf } from "../log.ts";
import { openQueryable } from "../store/queryable.ts";
import { OktaApiError, OktaClient, type OktaEnv, parseOktaEnv } from "../okta/okta_api.ts";
import {
  type CommandIo,
  databaseUrlOf,
  dbPathOf,
  EXIT_USAGE,
  parseAge,
  PROCESS_IO,
  usageError,
  waitLine,
} from "./cli.ts";
import { syncLogins, type SyncProgress, type UnconfirmedReservation } from "../okta/sync_logins.ts";

/** Raw values as read from the environment. */
export type SyncEnv = OktaEnv & {
  readonly DB_PATH?: string;
  readonly DATABASE_URL?: string;
  readonly PERSON_ATTRIBUTE?: string;
};

const USAGE = `Usage: deno task sync [--prune] [--release-unconfirmed-after AGE [--confirm]]

Loads every existing Okta login into the login index from the Okta Users API: all users, then
the DEPROVISIONED ones (a plain list leaves them out, and they still hold their logins). Logins
already in the index keep their owner; Okta's user id is recorded. Safe to run again.

Options:
  --prune      Release logins an earlier sync loaded that Okta no longer has (only after both
               passes completed; logins the hook handed out are never released)
  --release-unconfirmed-after AGE
               List the logins the hook reserved more than AGE ago (14d, 36h) that no Okta
               user holds: users an admin cleared from the import queue, or never confirmed.
               Only after both passes completed.
  --confirm    With --release-unconfirmed-after: release them, so the owner's next import gets
               a login afresh; each release is recorded in the audit (table releases)
  -h, --help   Show this help

Environment:
  OKTA_ORG_URL     The org, e.g. https://acme.okta.com (https:// required)
  OKTA_API_TOKEN   An API token of an admin who can read users (sent as "SSWS ...")
  DB_PATH          The index (default ${DATA_DIR}/import-hook.db)
  DATABASE_URL     PostgreSQL instead (postgres://user@host/db), as the service has it
  PERSON_ATTRIBUTE Okta user profile attribute identifying a person (stored with each login)
Exit codes: 0 done, 1 failure (Okta refused or the database cannot be used), 2 bad arguments.`;

/** A progress line at most this often, plus one at the end of each pass. */
const PROGRESS_EVERY_MS = 2000;

/** Runs the sync command; resolves to the exit code (2: bad arguments, 1: failure). */
export async function runSync(
  args: string[],
  env: SyncEnv,
  io: CommandIo = PROCESS_IO,
): Promise<number> {
  const { out, err } = io;
  let prune: boolean;
  let releaseAge: { text: string; ms: number } | null = null;
  let confirm: boolean;
  try {
    const { values } = parseArgs({
      args,
      options: {
        help: { type: "boolean", short: "h" },
        prune: { type: "boolean" },
        "release-unconfirmed-after": { type: "string" },
        confirm: { type: "boolean" },
      },
      allowPositionals: false,
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    prune = values.prune ?? false;
    confirm = values.confirm ?? false;
    const age = values["release-unconfirmed-after"];
    if (age !== undefined) {
      releaseAge = { text: age, ms: parseAge(age, "--release-unconfirmed-after") };
    } else if (confirm) {
      throw new TypeError("Option --confirm goes with --release-unconfirmed-after AGE");
    }
  } catch (error) {
    err(usageError(error));
    return EXIT_USAGE;
  }

  let target;
  let personAttribute: string | null;
  try {
    target = parseOktaEnv(env);
    personAttribute = readPersonAttribute(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err(error.message);
    return 1;
  }
  const dbPath = dbPathOf(env);
  const databaseUrl = databaseUrlOf(env);
  let db;
  try {
    db = await openQueryable({ dbPath, databaseUrl });
  } catch (error) {
    const where = databaseUrl === null ? `"${dbPath}"` : redactedUrl(databaseUrl);
    err(`Cannot open the index ${where}: ${messageOf(error)}`);
    return 1;
  }

  const started = performance.now();
  const progress = new ProgressLines(err, started);
  const client = new OktaClient(target, {
    onWait: (wait) => err(waitLine(wait)),
    ...io.okta,
  });
  const now = io.now();
  const release = releaseAge === null ? null : {
    reservedBefore: new Date(now.getTime() - releaseAge.ms).toISOString(),
    confirm,
    reason: `No Okta user held the login ${releaseAge.text} after the hook reserved it ` +
      "(sync --release-unconfirmed-after)",
  };
  try {
    const result = await syncLogins(db.q, client, {
      startedAt: now.toISOString(),
      prune,
      release,
      personAttribute,
      onProgress: (p) => progress.page(p),
    });
    progress.finish();
    const seconds = (performance.now() - started) / 1000;
    const pruned = result.pruned === null ? "" : `, ${result.pruned} released (--prune)`;
    out(
      `Synced ${db.where} from ${target.orgUrl.origin} in ${seconds.toFixed(1)} s ` +
        `(${perSecond(result.users, seconds)} users/s): ${result.users} users ` +
        `(${result.deprovisioned} deprovisioned), ${result.added} added, ` +
        `${result.updated} already present, ${result.withoutLogin} without a login${pruned}`,
    );
    if (result.pruneSkipped !== null) err(`Not pruning: ${result.pruneSkipped}`);
    if (result.releaseSkipped !== null) err(`Not releasing: ${result.releaseSkipped}`);
    if (releaseAge !== null && result.unconfirmed !== null) {
      for (const line of unconfirmedLines(result.unconfirmed, releaseAge.text, result.released)) {
        out(line);
      }
    }
    return 0;
  } catch (error) {
    const written = progress.last === null
      ? ""
      : ` (${progress.last.users} users written before it${prune ? "; nothing pruned" : ""})`;
    const stopped = error instanceof OktaApiError ? "" : "stopped: ";
    err(`Cannot sync from ${target.orgUrl.origin}: ${stopped}${messageOf(error)}${written}`);
    return 1;
  } finally {
    await db.close();
  }
}

/** Progress on stderr: at most one line every few seconds, and one at the end of each pass. */
class ProgressLines {
  readonly #write: (line: string) => void;
  readonly #started: number;
  #shownAt = -Infinity;
  #shown: SyncProgress | null = null;
  /** The latest counts. */
  last: SyncProgress | null = null;

  constructor(write: (line: string) => void, started: number) {
    this.#write = write;
    this.#started = started;
  }

  page(progress: SyncProgress): void {
    if (this.last !== null && this.last.pass !== progress.pass) this.#show(this.last);
    this.last = progress;
    if (performance.now() - this.#shownAt >= PROGRESS_EVERY_MS) this.#show(progress);
  }

  finish(): void {
    if (this.last !== null) this.#show(this.last);
  }

  #show(p: SyncProgress): void {
    if (this.#shown === p) return;
    this.#shown = p;
    this.#shownAt = performance.now();
    const rate = perSecond(p.users, (this.#shownAt - this.#started) / 1000);
    this.#write(
      `... ${p.users} users in ${p.pages} page${
        p.pages === 1 ? "" : "s"
      } (${p.pass}): ${p.added} added, ` +
        `${p.updated} already present, ${rate} users/s`,
    );
  }
}

function perSecond(count: number, seconds: number): number {
  return Math.round(count / Math.max(seconds, 0.001));
}

/** The unconfirmed reservations as lines: a count, one line each, then what was done. */
export function unconfirmedLines(
  rows: readonly UnconfirmedReservation[],
  age: string,
  released: number,
): string[] {
  if (rows.length === 0) return [`No login the hook reserved more than ${age} ago is unconfirmed`];
  const lines = [
    `${rows.length} login${rows.length === 1 ? "" : "s"} the hook reserved more than ${age} ago ` +
    `${rows.length === 1 ? "is" : "are"} held by no Okta user:`,
    ...rows.map((r) => `  ${r.login}  reserved ${r.reservedAt}  event ${r.eventId ?? "-"}`),
  ];
  lines.push(
    released > 0
      ? `Released ${released}: each owner's next import gets a login afresh (audit: table releases)`
      : "Nothing released: run again with --confirm to release them",
  );
  return lines;
}
