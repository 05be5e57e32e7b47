import assert from "node:assert/strict";
import type { RejectionRecord } from "../decision/records.ts";
import { MAX_KEYS_PER_MINUTE, OTHERS, RefusalCounter } from "./refusals.ts";

function refusal(at: string, remoteAddr = "203.0.113.1", status = 401): RejectionRecord {
  return {
    receivedAt: at,
    status,
    reason: status === 401 ? "Missing Authorization header" : "Wrong Authorization header value",
    remoteAddr,
    method: "POST",
    path: "/hooks/import",
    eventId: null,
  };
}

Deno.test("RefusalCounter counts one kind from one address in one minute as one row", () => {
  const counter = new RefusalCounter();
  assert.equal(counter.add(refusal("2026-03-02T08:00:01.000Z")).first, true);
  for (let i = 2; i <= 9; i++) {
    assert.deepEqual(counter.add(refusal(`2026-03-02T08:00:0${i}.000Z`)), {
      first: false,
      done: [],
    });
  }
  assert.equal(counter.add(refusal("2026-03-02T08:00:30.000Z", "203.0.113.1", 403)).first, true);
  const rows = counter.flush();
  assert.deepEqual(rows.map((r) => [r.status, r.count, r.receivedAt, r.lastAt]), [
    [401, 9, "2026-03-02T08:00:01.000Z", "2026-03-02T08:00:09.000Z"],
    [403, 1, "2026-03-02T08:00:30.000Z", "2026-03-02T08:00:30.000Z"],
  ]);
  assert.deepEqual(counter.flush(), []);
});

Deno.test("RefusalCounter hands over a minute's rows when the next minute starts", () => {
  const counter = new RefusalCounter();
  counter.add(refusal("2026-03-02T08:00:59.000Z"));
  const next = counter.add(refusal("2026-03-02T08:01:00.000Z"));
  assert.equal(next.first, true);
  assert.deepEqual(next.done.map((r) => [r.receivedAt, r.count]), [[
    "2026-03-02T08:00:59.000Z",
    1,
  ]]);
});

Deno.test("RefusalCounter keeps at most a bounded number of rows a minute, whatever the addresses", () => {
  const counter = new RefusalCounter();
  for (let i = 0; i < 10_000; i++) {
    counter.add(refusal("2026-03-02T08:00:00.000Z", `198.51.${i >> 8}.${i & 255}`));
  }
  const rows = counter.flush();
  assert.equal(rows.length, MAX_KEYS_PER_MINUTE + 1);
  assert.equal(rows.reduce((sum, r) => sum + (r.count ?? 1), 0), 10_000);
  assert.equal(rows.at(-1)!.remoteAddr, OTHERS);
  assert.equal(rows.at(-1)!.count, 10_000 - MAX_KEYS_PER_MINUTE);
});
