/**
 * What the admin commands share: one seam `(args, env, io)` for every command, where they print,
 * where the database is, and one-line messages for bad arguments and failures.
 */

import { dirname } from "node:path";
import { DEFAULT_DB_PATH } from "../config.ts";
import { messageOf, writeAllSync } from "../log.ts";
import type { OktaClientOptions, OktaWait } from "../okta/okta_api.ts";

/** Where a command talks: stdout and stderr, one call per line or block. */
export interface Terminal {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** A command's side of the world: its terminal, its clock, and how it reaches Okta. */
export interface CommandIo extends Terminal {
  readonly now: () => Date;
  /** Seams for tests: a fake Okta's retries and sleeps. */
  readonly okta?: OktaClientOptions;
}

/** An admin command: resolves to the exit code (0 done, 1 failure, {@link EXIT_USAGE}). */
export type Command<Env> = (args: string[], env: Env, io?: CommandIo) => Promise<number>;

const encoder = new TextEncoder();

/** The process's own stdout and stderr. */
export const CONSOLE: Terminal = {
  out: (text) => writeAllSync(Deno.stdout, encoder.encode(`${text}\n`)),
  err: (text) => writeAllSync(Deno.stderr, encoder.encode(`${text}\n`)),
};

/** The process's terminal and wall clock. */
export const PROCESS_IO: CommandIo = { ...CONSOLE, now: () => new Date() };

/** Exit code for bad arguments; 1 is for failures. */
export const EXIT_USAGE = 2;

/** The database file the commands work on: `DB_PATH`, or the service's default. */
export function dbPathOf(env: { readonly DB_PATH?: string | undefined }): string {
  return env.DB_PATH?.trim() || DEFAULT_DB_PATH;
}

/** `DATABASE_URL`, trimmed, or `null` when unset or blank: the SQLite file is used then. */
export function databaseUrlOf(env: { readonly DATABASE_URL?: string | undefined }): string | null {
  return env.DATABASE_URL?.trim() || null;
}

/**
 * The one-line error for an argument `node:util` parseArgs (or our own checks) refused, with a
 * pointer to `--help`. parseArgs's unknown-option message goes on about positionals; cut it.
 */
export function usageError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const text = errorMessage(error);
  // parseArgs reads "--limit -1" as a missing value and answers in three lines: say it in one.
  const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(text);
  if (ambiguous) {
    const option = ambiguous[1]!;
    return `Option ${option} needs a value; one that starts with "-" goes as ${option}=VALUE (see --help)`;
  }
  const short = code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    ? text.replace(/\. To specify .*$/, "")
    : text;
  return `${short} (see --help)`;
}

/** An error's message; Deno's "(os error 2)" details shortened for a person to read. */
export function errorMessage(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return error.message.split("\n")[0]!;
  return messageOf(error);
}

/**
 * Why `path` cannot be read as the file a command was given, in one line, or `null`: checked
 * before any work, so a directory or a missing file never costs a copy of the index first.
 */
export async function inputProblem(path: string): Promise<string | null> {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? null : `Cannot read "${path}": it is a directory, not a file`;
  } catch (error) {
    return `Cannot read "${path}": ${errorMessage(error)}`;
  }
}

/**
 * Why `path` cannot be written as a command's output, in one line, or `null`: its directory must
 * exist and be a directory, and `path` itself must not be one.
 */
export async function outputProblem(path: string, option: string): Promise<string | null> {
  const dir = dirname(path);
  try {
    if (!(await Deno.stat(dir)).isDirectory) {
      return `Cannot write ${option} "${path}": "${dir}" is not a directory`;
    }
  } catch (error) {
    return `Cannot write ${option} "${path}": its directory "${dir}": ${errorMessage(error)}`;
  }
  try {
    if ((await Deno.stat(path)).isDirectory) {
      return `Cannot write ${option} "${path}": it is a directory`;
    }
  } catch { /* it does not exist yet: it will be created */ }
  return null;
}

/** A line saying why a command talking to Okta is waiting. */
export function waitLine(wait: OktaWait): string {
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

/** An age as `90d` or `36h`. */
export const AGE = /^(\d{1,6})([dh])$/;

/** `90d` or `36h` in milliseconds; throws a TypeError naming `option` otherwise. */
export function parseAge(text: string, option: string): number {
  const match = AGE.exec(text.trim());
  const n = match === null ? 0 : Number(match[1]);
  if (match === null || n === 0) {
    throw new TypeError(
      `Option ${option} must be a number of days or hours such as 90d or 36h, got "${text}"`,
    );
  }
  return n * (match[2] === "d" ? 86_400_000 : 3_600_000);
}
