import assert from "node:assert/strict";
import type { RejectionRecord } from "../decision/records.ts";
import type { LogFields, Logger } from "../log.ts";
import { refusalRecorder } from "./refusal_recorder.ts";

function refusal(reason: string, at = "2026-03-02T08:00:10.000Z"): RejectionRecord {
  return {
    receivedAt: at,
    status: 401,
    reason,
    remoteAddr: "198.51.100.7",
    method: "POST",
    path: "/hooks/import",
    eventId: null,
  };
}

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const line = (level: string) => (message: string, fields?: LogFields) =>
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return {
    lines,
    info: line("info"),
    warn: line("warn"),
    request: () => {},
    error: (message) => lines.push(`error ${message}`),
  };
}

Deno.test("refusalRecorder() warns of the first refusal of a kind at once and writes the minute's count on flush", async () => {
  const written: RejectionRecord[] = [];
  const log = recordingLog();
  const recorder = refusalRecorder({
    recordRejection: (r) => Promise.resolve(void written.push(r)),
  }, log);
  for (let i = 0; i < 3; i++) recorder.count(refusal("Missing Authorization header"));
  assert.equal(log.lines.length, 1);
  assert.match(
    log.lines[0]!,
    /^warn Refused a request without valid credentials .*Missing Authorization/,
  );
  assert.equal(written.length, 0, "nothing is written before its minute ends or a flush");
  await recorder.flush();
  assert.equal(written.length, 1);
  assert.equal(written[0]!.count, 3);
  assert.match(log.lines[1]!, /^warn Refused requests without valid credentials .*"count":3/);
});

Deno.test("refusalRecorder() logs, and does not throw, when the store cannot write", async () => {
  const log = recordingLog();
  const recorder = refusalRecorder({
    recordRejection: () => Promise.reject(new Error("disk full")),
  }, log);
  recorder.count(refusal("Wrong secret"));
  await recorder.flush();
  assert.ok(log.lines.includes("error Could not record refusals"), log.lines.join("\n"));
});
