import assert from "node:assert/strict";
import { createLineWriter, createLogger, type SyncSink } from "./log.ts";
import { withDeadline } from "../tests/_test_utils.ts";

/** A sink keeping each write's text; `chunk` caps how many bytes one write takes. */
function recordingSink(chunk = Infinity): SyncSink & { writes: string[] } {
  const decoder = new TextDecoder();
  const writes: string[] = [];
  return {
    writes,
    writeSync(bytes) {
      const n = Math.min(bytes.length, chunk);
      writes.push(decoder.decode(bytes.subarray(0, n)));
      return n;
    },
  };
}

/** A scheduler that runs flushes only when told to. */
function manualSchedule() {
  const queued: (() => void)[] = [];
  return {
    schedule: (flush: () => void) => void queued.push(flush),
    runAll: () => queued.splice(0).forEach((flush) => flush()),
    get count() {
      return queued.length;
    },
  };
}

Deno.test("createLineWriter() writes the lines of one turn in one write, in order", () => {
  const sink = recordingSink();
  const timer = manualSchedule();
  const out = createLineWriter(sink, timer.schedule);
  out.write("one");
  out.write("two");
  out.write("three");
  assert.equal(timer.count, 1, "one flush is scheduled for the turn");
  assert.deepEqual(sink.writes, [], "nothing is written before the flush");
  timer.runAll();
  assert.deepEqual(sink.writes, ["one\ntwo\nthree\n"]);
  out.write("four");
  timer.runAll();
  assert.deepEqual(sink.writes, ["one\ntwo\nthree\n", "four\n"]);
});

Deno.test("createLineWriter() flush() writes at once and writes nothing when nothing is queued", () => {
  const sink = recordingSink();
  const timer = manualSchedule();
  const out = createLineWriter(sink, timer.schedule);
  out.flush();
  assert.deepEqual(sink.writes, []);
  out.write("now");
  out.flush();
  assert.deepEqual(sink.writes, ["now\n"]);
  timer.runAll();
  assert.deepEqual(sink.writes, ["now\n"], "the scheduled flush finds nothing left");
});

Deno.test("createLineWriter() finishes a line the sink took only part of", () => {
  const bytes: number[] = [];
  let writes = 0;
  const timer = manualSchedule();
  const out = createLineWriter({
    writeSync(chunk) {
      writes++;
      const n = Math.min(chunk.length, 4);
      bytes.push(...chunk.subarray(0, n));
      return n;
    },
  }, timer.schedule);
  out.write('{"msg":"é"}');
  timer.runAll();
  assert.equal(writes, 4, "13 bytes, 4 at a time");
  assert.equal(new TextDecoder().decode(new Uint8Array(bytes)), '{"msg":"é"}\n');
});

Deno.test("createLineWriter() keeps serving when the sink fails", () => {
  let calls = 0;
  const timer = manualSchedule();
  const out = createLineWriter({
    writeSync() {
      calls++;
      throw new Deno.errors.BrokenPipe("stdout closed");
    },
  }, timer.schedule);
  out.write("lost");
  assert.doesNotThrow(() => timer.runAll());
  out.write("also lost");
  assert.doesNotThrow(() => out.flush());
  assert.equal(calls, 2, "each flush tries again");
});

Deno.test("createLineWriter() flushes on a real zero timer after the current turn", async () => {
  const sink = recordingSink();
  const written = Promise.withResolvers<void>();
  const out = createLineWriter({
    writeSync(bytes) {
      const n = sink.writeSync(bytes);
      written.resolve();
      return n;
    },
  });
  out.write("a");
  await Promise.resolve();
  out.write("b");
  assert.deepEqual(sink.writes, []);
  await withDeadline(written.promise, 5_000, "the flush");
  assert.deepEqual(sink.writes, ["a\nb\n"]);
});

Deno.test("createLogger() writes one JSON object per line with time and level", () => {
  const sink = recordingSink();
  const timer = manualSchedule();
  const log = createLogger(
    createLineWriter(sink, timer.schedule),
    () => new Date("2026-03-02T08:15:41.000Z"),
  );
  log.info("Listening", { url: "https://127.0.0.1:8443/hooks/import", secrets: 1 });
  log.request({ method: "POST", path: "/hooks/import", status: 204, skipped: undefined });
  timer.runAll();
  assert.deepEqual(sink.writes.join("").trimEnd().split("\n").map((l) => JSON.parse(l)), [
    {
      time: "2026-03-02T08:15:41.000Z",
      level: "info",
      msg: "Listening",
      url: "https://127.0.0.1:8443/hooks/import",
      secrets: 1,
    },
    {
      time: "2026-03-02T08:15:41.000Z",
      level: "info",
      msg: "request",
      method: "POST",
      path: "/hooks/import",
      status: 204,
    },
  ]);
});

Deno.test("createLogger() writes an error at once, after the lines queued before it", () => {
  const sink = recordingSink();
  const timer = manualSchedule();
  const log = createLogger(createLineWriter(sink, timer.schedule), () => new Date(0));
  log.request({ status: 204 });
  log.error("Decision not committed", new Error("busy", { cause: new TypeError("locked") }), {
    eventId: "e1",
  });
  assert.equal(sink.writes.length, 1, "written without waiting for the timer");
  const [request, error] = sink.writes[0]!.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(request.msg, "request");
  assert.deepEqual(error, {
    time: "1970-01-01T00:00:00.000Z",
    level: "error",
    msg: "Decision not committed",
    eventId: "e1",
    error: "Error: busy",
    cause: "TypeError: locked",
  });
});

Deno.test("createLogger() loses no line when the process exits right after writing it", async () => {
  const script = `
    import { createLogger } from ${JSON.stringify(new URL("./log.ts", import.meta.url).href)};
    const log = createLogger();
    log.info("first");
    log.info("last before exit");
    Deno.exit(3);
  `;
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(result.code, 3, new TextDecoder().decode(result.stderr));
  const lines = new TextDecoder().decode(result.stdout).trimEnd().split("\n");
  assert.deepEqual(lines.map((l) => JSON.parse(l).msg), ["first", "last before exit"]);
});

Deno.test("createLogger() writes from its level up: warn drops request lines, error drops warnings, errors always go", () => {
  const written = (level: "debug" | "info" | "warn" | "error") => {
    const sink = recordingSink();
    const log = createLogger(createLineWriter(sink, () => {}), () => new Date(0), level);
    log.request({ status: 204 });
    log.info("Listening");
    log.warn("Refused");
    log.error("Broke", new Error("x"));
    return sink.writes.join("").trim().split("\n").map((line) => JSON.parse(line).msg);
  };
  assert.deepEqual(written("debug"), ["request", "Listening", "Refused", "Broke"]);
  assert.deepEqual(written("info"), ["request", "Listening", "Refused", "Broke"]);
  assert.deepEqual(written("warn"), ["Refused", "Broke"]);
  assert.deepEqual(written("error"), ["Broke"]);
});
