// deno-lint-ignore-file no-console -- the one module that writes log lines
/**
 * Structured logs: one JSON object per line on stdout. The only module that writes to the
 * console; callers never pass secrets or request bodies.
 */

/** Fields of one log line. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Where log lines go. */
export interface Logger {
  /** A lifecycle event: started, stopped, generated a credential. */
  info(message: string, fields?: LogFields): void;
  /** One handled request. */
  request(fields: LogFields): void;
  /** Something went wrong that a person should look at. */
  error(message: string, error: unknown, fields?: LogFields): void;
}

/** A logger writing JSON lines through `write` (stdout by default). */
export function createLogger(
  write: (line: string) => void = (line) => console.log(line),
  now: () => Date = () => new Date(),
): Logger {
  const emit = (level: string, fields: LogFields) =>
    write(JSON.stringify({ time: now().toISOString(), level, ...fields }));
  return {
    info: (message, fields = {}) => emit("info", { msg: message, ...fields }),
    request: (fields) => emit("info", { msg: "request", ...fields }),
    error: (message, error, fields = {}) =>
      emit("error", {
        msg: message,
        ...fields,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        cause: error instanceof Error && error.cause instanceof Error
          ? `${error.cause.name}: ${error.cause.message}`
          : undefined,
      }),
  };
}

/** A logger that drops everything, for tests and quiet tools. */
export const silentLogger: Logger = { info() {}, request() {}, error() {} };
