import assert from "node:assert/strict";
import { requestsInFlight } from "./in_flight.ts";
import { withDeadline } from "../../tests/_test_utils.ts";

const INFO = { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 } } as never;

Deno.test("requestsInFlight() counts requests, tells each one's start and end, and signals idle", async () => {
  const inFlight = requestsInFlight();
  const deltas: number[] = [];
  const release = Promise.withResolvers<void>();
  const handler = inFlight.track(async () => {
    await release.promise;
    return new Response("done");
  }, (_info, delta) => deltas.push(delta));
  assert.equal(inFlight.count(), 0);
  await withDeadline(inFlight.idle(), 1000, "idle at once when nothing runs");
  const started = inFlight.nextStart();
  const answer = handler(new Request("https://x/"), INFO);
  await withDeadline(started, 1000, "the request to start");
  assert.equal(inFlight.count(), 1);
  let idle = false;
  const idlePromise = inFlight.idle().then(() => (idle = true));
  await Promise.resolve();
  assert.equal(idle, false, "not idle while a request runs");
  release.resolve();
  assert.equal(await (await answer).text(), "done");
  await withDeadline(idlePromise, 1000, "idle after the request");
  assert.equal(inFlight.count(), 0);
  assert.deepEqual(deltas, [1, -1]);
});

Deno.test("requestsInFlight() ends a request that throws too", async () => {
  const inFlight = requestsInFlight();
  const handler = inFlight.track(() => Promise.reject(new Error("boom")), () => {});
  await assert.rejects(handler(new Request("https://x/"), INFO), /boom/);
  assert.equal(inFlight.count(), 0);
});
