/**
 * `deno task audit summary|list|resolve|prune`: picks the subcommand (audit_summary.ts,
 * audit_list.ts, audit_resolve.ts, audit_prune.ts). `summary` and `list` open the database
 * read-only; `resolve` marks decisions handled; `prune` deletes old audit rows only.
 */

import {
  type CommandIo,
  databaseUrlOf,
  dbPathOf,
  EXIT_USAGE,
  PROCESS_IO,
  type Terminal,
} from "./cli.ts";
import { type Context, USAGE } from "./audit_shared.ts";
import { runSummary } from "./audit_summary.ts";
import { runList } from "./audit_list.ts";
import { runPrune } from "./audit_prune.ts";
import { runResolve } from "./audit_resolve.ts";

/** The audit's environment, read by name. */
export interface AuditEnv {
  readonly DB_PATH?: string;
  readonly DATABASE_URL?: string;
  /** Who runs it (`audit resolve --by`'s default): the sudo caller, else the login. */
  readonly SUDO_USER?: string;
  readonly USER?: string;
}

type Subcommand = (args: string[], ctx: Context) => number | Promise<number>;

const SUBCOMMANDS: Record<string, Subcommand> = {
  summary: runSummary,
  list: runList,
  resolve: runResolve,
  prune: runPrune,
};

/** Runs the audit command; resolves to the exit code (2: bad arguments, 1: failure). */
export function runAudit(
  args: string[],
  env: AuditEnv,
  io: CommandIo = PROCESS_IO,
): Promise<number> {
  const terminal: Terminal = io;
  const [name, ...rest] = args;
  if (name === "--help" || name === "-h") {
    terminal.out(USAGE);
    return Promise.resolve(0);
  }
  const names = Object.keys(SUBCOMMANDS).join(", ");
  const subcommand = name === undefined ? undefined : SUBCOMMANDS[name];
  if (subcommand === undefined) {
    terminal.err(
      name === undefined
        ? `Expected a command: ${names} (see --help)`
        : `Unknown audit command "${name}": use ${names} (see --help)`,
    );
    return Promise.resolve(EXIT_USAGE);
  }
  const ctx: Context = {
    dbPath: dbPathOf(env),
    databaseUrl: databaseUrlOf(env),
    terminal,
    now: io.now,
    user: env.SUDO_USER || env.USER || "unknown",
  };
  return Promise.resolve(subcommand(rest, ctx));
}
