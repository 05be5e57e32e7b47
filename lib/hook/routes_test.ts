import assert from "node:assert/strict";
import type { RejectionRecord } from "../decision/records.ts";
import type { Decided } from "../decision/decide_event.ts";
import type { HookEvent } from "../decision/hook_event.ts";
import { silentLogger } from "../log.ts";
import { CommitError } from "../store/commit_error.ts";
import { createSecretCheck } from "./auth.ts";
import { createHandler, type HandlerDeps } from "./routes.ts";
import { makeHookRequest, TEST_SECRET } from "../../tests/_test_utils.ts";

const INFO: Deno.ServeHandlerInfo = {
  remoteAddr: { transport: "tcp", hostname: "203.0.113.7", port: 50000 },
  completed: Promise.resolve(),
};

/** A store that answers from `decide` and records what it was given: no worker, no database. */
function fakeStore(decide: (event: HookEvent) => Promise<Decided>) {
  const decided: HookEvent[] = [];
  const rejected: RejectionRecord[] = [];
  let healthy = true;
  return {
    decided,
    rejected,
    setHealthy: (value: boolean) => (healthy = value),
    store: {
      decide: (event: HookEvent) => {
        decided.push(event);
        return decide(event);
      },
      recordRejection: (record: RejectionRecord) => {
        rejected.push(record);
        return Promise.resolve();
      },
      health: () =>
        Promise.resolve(healthy ? { ok: true as const } : { ok: false as const, reason: "down" }),
    },
  };
}

function handler(store: HandlerDeps["store"], log = silentLogger) {
  return createHandler({
    checkAuth: createSecretCheck([TEST_SECRET], "Authorization"),
    store,
    ownerAttributes: ["employeeId"],
    middleNameAttribute: "middleName",
    log,
    now: () => new Date("2026-03-02T08:00:00.000Z"),
    nowMs: () => 0,
  });
}

function post(body: string, headers: Record<string, string> = { authorization: TEST_SECRET }) {
  return new Request("https://hook.example.com/hooks/import", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

const UNCHANGED: Decided = {
  reply: { status: 204, body: null },
  outcome: "unchanged",
  strategy: null,
  replayed: false,
  eventIdReused: false,
};

Deno.test("the handler passes an authenticated import to the store and sends its reply", async () => {
  const fake = fakeStore(() => Promise.resolve(UNCHANGED));
  const body = makeHookRequest({
    login: "ann.lee@example.com",
    externalId: "E9",
    eventId: "evt-h1",
  });
  const response = await handler(fake.store)(post(JSON.stringify(body)), INFO);
  assert.equal(response.status, 204);
  assert.equal(fake.decided.length, 1);
  assert.equal(fake.decided[0]!.eventId, "evt-h1");
  assert.equal(fake.decided[0]!.login, "ann.lee@example.com");
  assert.equal(fake.decided[0]!.externalId, "E9");
});

Deno.test("the handler refuses a missing or wrong secret, records it, and decides nothing", async () => {
  const fake = fakeStore(() => Promise.reject(new Error("must not be called")));
  const handle = handler(fake.store);
  const missing = await handle(post("{}", {}), INFO);
  assert.equal(missing.status, 401);
  const wrong = await handle(post("{}", { authorization: "not-the-secret-at-all" }), INFO);
  assert.equal(wrong.status, 403);
  assert.deepEqual((await wrong.json()).error.errorCauses[0].reason, "INVALID_CREDENTIALS");
  assert.equal(fake.decided.length, 0);
  assert.deepEqual(fake.rejected.map((r) => [r.status, r.remoteAddr]), [
    [401, "203.0.113.7"],
    [403, "203.0.113.7"],
  ]);
});

Deno.test("the handler answers a body that is not an import request with 400 and its causes", async () => {
  const fake = fakeStore(() => Promise.reject(new Error("must not be called")));
  const response = await handler(fake.store)(post('{"eventType":"x"}'), INFO);
  assert.equal(response.status, 400);
  const body = await response.json();
  assert.equal(body.error.errorSummary, "Request body is not a valid import hook request");
  assert.ok(body.error.errorCauses.length > 0);
  assert.equal(fake.rejected.length, 1);
});

Deno.test("the handler answers 503 with Retry-After when the store could not commit", async () => {
  const fake = fakeStore(() => Promise.reject(new CommitError("Could not commit 1 decision(s)")));
  const body = makeHookRequest({ login: "ann.lee@example.com" });
  const response = await handler(fake.store)(post(JSON.stringify(body)), INFO);
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "1");
});

Deno.test("the handler turns an unexpected failure into a logged 500 and keeps serving", async () => {
  const fake = fakeStore(() => Promise.reject(new TypeError("boom")));
  const errors: string[] = [];
  const log = { ...silentLogger, error: (message: string) => errors.push(message) };
  const handle = handler(fake.store, log);
  const body = JSON.stringify(makeHookRequest({ login: "ann.lee@example.com" }));
  assert.equal((await handle(post(body), INFO)).status, 500);
  assert.deepEqual(errors, ["Request failed"]);
  const health = await handle(new Request("https://hook.example.com/healthz"), INFO);
  assert.equal(health.status, 200);
});

Deno.test("the handler routes by path and method: 404, 405 with Allow, and health from the store", async () => {
  const fake = fakeStore(() => Promise.resolve(UNCHANGED));
  const handle = handler(fake.store);
  assert.equal((await handle(new Request("https://h.example.com/nope"), INFO)).status, 404);
  const get = await handle(new Request("https://h.example.com/hooks/import"), INFO);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  fake.setHealthy(false);
  const head = await handle(new Request("https://h.example.com/healthz", { method: "HEAD" }), INFO);
  assert.equal(head.status, 503);
});
