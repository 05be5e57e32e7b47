// deno-lint-ignore-file no-console -- a command-line tool talks to its terminal
/**
 * `deno task sync [--prune]`: argument parsing, configuration and reporting around
 * {@link syncLogins}.
 */

import { parseArgs } from "node:util";
import { ConfigError, DATA_DIR } from "../config.ts";
import { openDatabase } from "../store/database.ts";
import {
  OktaApiError,
  OktaClient,
  type OktaClientOptions,
  type OktaEnv,
  type OktaWait,
  parseOktaEnv,
} from "../okta/okta_api.ts";
import { syncLogins, type SyncProgress } from "../okta/sync_logins.ts";

/** The environment variables the sync reads. */
export const SYNC_VARIABLES = ["OKTA_ORG_URL", "OKTA_API_TOKEN", "DB_PATH"] as const;

/** Raw values as read from the environment. */
export type SyncEnv = OktaEnv & { readonly DB_PATH?: string };

const USAGE = `Usage: deno task sync [--prune]

Loads every existing Okta login into the login index from the Okta Users API: all users, then
the DEPROVISIONED ones (a plain list leaves them out, and they still hold their logins). Logins
already in the index keep their owner; Okta's user id is recorded. Safe to run again.

Options:
  --prune      Release logins an earlier sync loaded that Okta no longer has (only after both
               passes completed; logins the hook handed out are never released)
  -h, --help   Show this help

Environment:
  OKTA_ORG_URL     The org, e.g. https://acme.okta.com (https:// required)
  OKTA_API_TOKEN   An API token of an admin who can read users (sent as "SSWS ...")
  DB_PATH          The index (default ${DATA_DIR}/import-hook.db)`;

/** A progress line at most this often, plus one at the end of each pass. */
const PROGRESS_EVERY_MS = 2000;

/** Seams for tests. */
export interface SyncCommandOptions {
  readonly out?: (line: string) => void;
  readonly err?: (line: string) => void;
  readonly client?: OktaClientOptions;
}

/** Runs the sync command; resolves to the exit code (2: bad arguments, 1: failure). */
export async function runSync(
  args: string[],
  env: SyncEnv,
  options: SyncCommandOptions = {},
): Promise<number> {
  const out = options.out ?? ((line) => console.log(line));
  const err = options.err ?? ((line) => console.error(line));
  let prune: boolean;
  try {
    const { values } = parseArgs({
      args,
      options: { help: { type: "boolean", short: "h" }, prune: { type: "boolean" } },
      allowPositionals: false,
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    prune = values.prune ?? false;
  } catch (error) {
    err(`${message(error)} (see --help)`);
    return 2;
  }

  let target;
  try {
    target = parseOktaEnv(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err(error.message);
    return 1;
  }
  const dbPath = env.DB_PATH?.trim() || `${DATA_DIR}/import-hook.db`;
  let db;
  try {
    db = openDatabase(dbPath);
  } catch (error) {
    err(`Cannot open the index "${dbPath}": ${message(error)}`);
    return 1;
  }

  const started = performance.now();
  const progress = new ProgressLines(err, started);
  const client = new OktaClient(target, {
    onWait: (wait) => err(describeWait(wait)),
    ...options.client,
  });
  try {
    const result = await syncLogins(db, client, {
      startedAt: new Date().toISOString(),
      prune,
      onProgress: (p) => progress.page(p),
    });
    progress.finish();
    const seconds = (performance.now() - started) / 1000;
    const pruned = result.pruned === null ? "" : `, ${result.pruned} released (--prune)`;
    out(
      `Synced ${dbPath} from ${target.orgUrl.origin} in ${seconds.toFixed(1)} s ` +
        `(${perSecond(result.users, seconds)} users/s): ${result.users} users ` +
        `(${result.deprovisioned} deprovisioned), ${result.added} added, ` +
        `${result.updated} already present, ${result.withoutLogin} without a login${pruned}`,
    );
    if (result.pruneSkipped !== null) err(`Not pruning: ${result.pruneSkipped}`);
    return 0;
  } catch (error) {
    const written = progress.last === null
      ? ""
      : ` (${progress.last.users} users written before it${prune ? "; nothing pruned" : ""})`;
    const stopped = error instanceof OktaApiError ? "" : "stopped: ";
    err(`Cannot sync from ${target.orgUrl.origin}: ${stopped}${message(error)}${written}`);
    return 1;
  } finally {
    db.close();
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

/** A line saying why the command is waiting. */
export function describeWait(wait: OktaWait): string {
  const s = (wait.ms / 1000).toFixed(1);
  switch (wait.reason) {
    case "rate-limit":
      return `... rate limit reached: waiting ${s} s for the reset before ${wait.request}`;
    case "429":
      return `... Okta answered 429 Too Many Requests: waiting ${s} s for the reset`;
    case "retry":
      return `... Okta failed ${wait.request}: retrying in ${s} s`;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
