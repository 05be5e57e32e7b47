/**
 * Structured logs: one JSON object per line on stdout. The service's only writer of stdout;
 * callers never pass secrets or request bodies. Lines written in one turn of the event loop go
 * out in one write (the request lines of a committed group are one syscall, not one each).
 */

/** An error's message alone, for one-line reasons people read. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An error as `Name: message`, for log lines and causes passed between threads. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Fields of one log line. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Where log lines go. */
export interface Logger {
  /** A lifecycle event: started, stopped, generated a credential. */
  info(message: string, fields?: LogFields): void;
  /** Something a deployer should know and may need to fix: a file others can read, a refusal. */
  warn(message: string, fields?: LogFields): void;
  /** One handled request. */
  request(fields: LogFields): void;
  /** Something went wrong that a person should look at. Written at once, with what is pending. */
  error(message: string, error: unknown, fields?: LogFields): void;
}

/** Where a {@link LineWriter} puts bytes: `Deno.stdout` or any file. */
export interface SyncSink {
  writeSync(bytes: Uint8Array): number;
}

/** Writes all of `bytes` to `sink`; a short write is continued, a closed sink gives up. */
export function writeAllSync(sink: SyncSink, bytes: Uint8Array): void {
  try {
    for (let offset = 0, n = 1; offset < bytes.length && n > 0; offset += n) {
      n = sink.writeSync(bytes.subarray(offset));
    }
  } catch {
    // The sink is gone (a closed pipe): the text cannot go anywhere, and the process goes on.
  }
}

/** Lines held until the current turn of the event loop ends, then written in one go. */
export interface LineWriter {
  /** Queues `line` (no newline) and schedules a flush if none is pending. */
  write(line: string): void;
  /** Writes everything queued now. */
  flush(): void;
}

/**
 * A {@link LineWriter} over `sink`. `schedule` runs the flush later (a zero timer by default);
 * the process's `unload` event flushes what is left, so `Deno.exit` loses no line.
 */
export function createLineWriter(
  sink: SyncSink = Deno.stdout,
  schedule: (flush: () => void) => void = (flush) => setTimeout(flush, 0),
): LineWriter {
  const encoder = new TextEncoder();
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const bytes = encoder.encode(`${pending.join("\n")}\n`);
    pending = [];
    writeAllSync(sink, bytes);
  };
  globalThis.addEventListener("unload", flush);
  return {
    write(line) {
      pending.push(line);
      if (scheduled) return;
      scheduled = true;
      schedule(flush);
    },
    flush,
  };
}

/** The levels `LOG_LEVEL` takes, least severe first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** The least severe level written. */
export type LogLevel = typeof LOG_LEVELS[number];

/**
 * A logger writing JSON lines to `out` (stdout, batched per event-loop turn, by default), from
 * `level` up: request lines and lifecycle events are `info`, refusals `warn`; errors always go.
 */
export function createLogger(
  out: LineWriter = createLineWriter(),
  now: () => Date = () => new Date(),
  level: LogLevel = "info",
): Logger {
  const emit = (level: string, fields: LogFields) =>
    out.write(JSON.stringify({ time: now().toISOString(), level, ...fields }));
  const from = LOG_LEVELS.indexOf(level);
  const info = from <= LOG_LEVELS.indexOf("info");
  const warn = from <= LOG_LEVELS.indexOf("warn");
  return {
    info: (message, fields = {}) => info && emit("info", { msg: message, ...fields }),
    warn: (message, fields = {}) => warn && emit("warn", { msg: message, ...fields }),
    request: (fields) => info && emit("info", { msg: "request", ...fields }),
    error: (message, error, fields = {}) => {
      emit("error", {
        msg: message,
        ...fields,
        error: describeError(error),
        cause: error instanceof Error && error.cause instanceof Error
          ? describeError(error.cause)
          : undefined,
      });
      out.flush();
    },
  };
}

/** A logger that drops everything, for tests and quiet tools. */
export const silentLogger: Logger = { info() {}, warn() {}, request() {}, error() {} };
