/**
 * Run as its own process by decision_store_test.ts: a store whose worker dies on its first group
 * (tests/_crashing_worker.ts). Deno prints the worker's uncaught error to this process's stderr,
 * so the test runs it here, captures that output and checks it, instead of letting it reach the
 * test run's own output. Prints what the store did as one JSON line.
 */

import { CommitError } from "../lib/store/commit_error.ts";
import { openSqliteStore } from "../lib/store/sqlite_store.ts";
import { hookEvent } from "./_test_utils.ts";

const AT = "2026-03-02T08:00:00.000Z";
const TIMING = { receivedAt: AT, elapsedMs: 0.5 };

const event = (n: number) =>
  hookEvent({
    eventId: `evt-${n}`,
    login: "john.smith@example.com",
    owner: JSON.stringify(["0oaApp", "externalId", `E${n}`]),
    externalId: `E${n}`,
    middleName: null,
  });

/** How a pending call ended: the CommitError's message, or what else it did. */
async function outcome(pending: Promise<unknown>): Promise<string> {
  try {
    await pending;
    return "answered";
  } catch (error) {
    return error instanceof CommitError ? `CommitError: ${error.message}` : `other: ${error}`;
  }
}

const errors: string[] = [];
const store = await openSqliteStore(
  {
    dbPath: "unused.db",
    busyTimeoutMs: 600,
    strategies: ["middle_name"],
    groupCommitMax: 256,
    groupCommitWindowMs: 0,
    answerDeadlineMs: 1000,
  },
  { onError: (message) => errors.push(message) },
  new URL("./_crashing_worker.ts", import.meta.url),
);
const first = outcome(store.decide(event(1), TIMING));
const queued = outcome(store.decide(event(2), TIMING));
const grouped = [await first, await queued];
const later = await outcome(store.decide(event(3), TIMING));
const refusal = await outcome(store.recordRejection({
  receivedAt: AT,
  status: 401,
  reason: "Missing authorization header",
  remoteAddr: null,
  method: "POST",
  path: "/hooks/import",
  eventId: null,
}));
const healthy = (await store.health()).ok;
await store.close();
const seen = { grouped, later, refusal, errors: errors.length, healthy };
await Deno.stdout.write(new TextEncoder().encode(`${JSON.stringify(seen)}\n`));
