// deno-lint-ignore-file no-console -- a command-line tool talks to its terminal
/**
 * What the admin commands share: where they print, and one-line messages for bad arguments and
 * failures.
 */

/** Where a command talks: stdout and stderr, one call per line or block. */
export interface Terminal {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** The process's own stdout and stderr. */
export const CONSOLE: Terminal = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

/** Exit code for bad arguments; 1 is for failures. */
export const EXIT_USAGE = 2;

/**
 * The one-line error for an argument `node:util` parseArgs (or our own checks) refused, with a
 * pointer to `--help`. parseArgs's unknown-option message goes on about positionals; cut it.
 */
export function usageError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const text = errorMessage(error);
  const short = code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    ? text.replace(/\. To specify .*$/, "")
    : text;
  return `${short} (see --help)`;
}

/** An error's message; Deno's "(os error 2)" details shortened for a person to read. */
export function errorMessage(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return error.message.split("\n")[0]!;
  return error instanceof Error ? error.message : String(error);
}
