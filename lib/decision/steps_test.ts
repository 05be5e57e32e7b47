import assert from "node:assert/strict";
import {
  ask,
  type AsyncPort,
  type Port,
  prefetch,
  question,
  runAsync,
  runSync,
  type Steps,
} from "./steps.ts";
import type { Reservation } from "./records.ts";

/** Steps that ask twice, the second question depending on the first answer. */
function* steps(): Steps<string> {
  const counter = yield* ask("suffixCounter", "a@x.com");
  const held = yield* ask("find", `a${counter ?? 0}@x.com`);
  return `${counter}:${held?.login}`;
}

const asked: string[] = [];
const port = {
  suffixCounter: (key: string) => {
    asked.push(`counter ${key}`);
    return 7;
  },
  find: (login: string) => {
    asked.push(`find ${login}`);
    return { login: `held ${login}` };
  },
} as unknown as Port;

Deno.test("runSync() and runAsync() answer the same steps alike, in order", async () => {
  asked.length = 0;
  assert.equal(runSync(steps(), port), "7:held a7@x.com");
  const asyncPort = Object.fromEntries(
    Object.entries(port).map(([name, f]) => [name, (...a: never[]) => Promise.resolve(f(...a))]),
  ) as unknown as AsyncPort;
  assert.equal(await runAsync(steps(), asyncPort), "7:held a7@x.com");
  assert.deepEqual(asked, [
    "counter a@x.com",
    "find a7@x.com",
    "counter a@x.com",
    "find a7@x.com",
  ]);
});

/** An engine whose answers wait until released, so a test sees which questions are in flight. */
function heldPort() {
  const log: string[] = [];
  const held: { key: string; release: () => void }[] = [];
  let inFlight = 0;
  let most = 0;
  const answer = (key: string, value: unknown) => {
    log.push(key);
    inFlight++;
    most = Math.max(most, inFlight);
    return new Promise((resolve) => {
      held.push({
        key,
        release: () => {
          inFlight--;
          resolve(value);
        },
      });
    });
  };
  const port = {
    findDecision: (id: string) => answer(`findDecision ${id}`, undefined),
    findForOwner: (owner: string, login: string) => answer(`findForOwner ${owner} ${login}`, null),
    find: (login: string) => answer(`find ${login}`, login === "a@x.com" ? { owner: "o" } : null),
    reserveIfFree: (r: Reservation) => answer(`reserve ${r.login}`, true),
  } as unknown as AsyncPort;
  return { port, log, held, most: () => most };
}

/** Releases every held answer as it comes, until `run` settles (with a deadline). */
async function drain<T>(h: ReturnType<typeof heldPort>, run: Promise<T>): Promise<T> {
  let settled = false;
  const result = run.finally(() => settled = true);
  const deadline = Date.now() + 5_000;
  while (!settled) {
    assert.ok(Date.now() < deadline, "the steps did not finish");
    h.held.shift()?.release();
    await new Promise((r) => setTimeout(r, 0));
  }
  return await result;
}

const reservation = {
  login: "b@x.com",
  owner: "o",
  requestedKey: "a@x.com",
  strategy: "middle-name",
  source: "hook",
  eventId: "e1",
  at: "2026-01-01T00:00:00.000Z",
} as unknown as Reservation;

function* prefetching(): Steps<string> {
  yield* prefetch(
    question("findDecision", "e1", "[]"),
    question("findForOwner", "o", "a@x.com"),
    question("find", "a@x.com"),
  );
  const stored = yield* ask("findDecision", "e1", "[]");
  const mine = yield* ask("findForOwner", "o", "a@x.com");
  const held = yield* ask("find", "a@x.com");
  const reserved = yield* ask("reserveIfFree", reservation);
  // Asked again after a write: the engine is asked again, not the prefetched answer.
  const again = yield* ask("find", "a@x.com");
  return JSON.stringify([stored ?? null, mine, held, reserved, again]);
}

Deno.test("runAsync() sends a prefetch's reads together and answers the steps' asks from them", async () => {
  const h = heldPort();
  const run = runAsync(prefetching(), h.port);
  // All three reads are in flight before any is answered.
  await Promise.resolve();
  assert.deepEqual(h.log, ["findDecision e1", "findForOwner o a@x.com", "find a@x.com"]);
  const result = await drain(h, run);
  assert.equal(result, JSON.stringify([null, null, { owner: "o" }, true, { owner: "o" }]));
  assert.equal(h.most(), 3);
  assert.deepEqual(h.log, [
    "findDecision e1",
    "findForOwner o a@x.com",
    "find a@x.com",
    "reserve b@x.com",
    "find a@x.com",
  ]);
});

Deno.test("runAsync() waits for a prefetched read the steps never took before it returns", async () => {
  function* early(): Steps<string> {
    yield* prefetch(question("findDecision", "e1", "[]"), question("find", "a@x.com"));
    yield* ask("findDecision", "e1", "[]");
    return "done";
  }
  const h = heldPort();
  let returned = false;
  const run = runAsync(early(), h.port).then((v) => {
    returned = true;
    return v;
  });
  await Promise.resolve();
  h.held.shift()!.release(); // findDecision
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
  assert.equal(returned, false, "returned while a read was still running");
  assert.equal(await drain(h, run), "done");
});

Deno.test("runSync() ignores a prefetch and asks each question when it comes", () => {
  const log: string[] = [];
  const syncPort = {
    findDecision: (id: string) => (log.push(`findDecision ${id}`), undefined),
    findForOwner: (o: string, l: string) => (log.push(`findForOwner ${o} ${l}`), null),
    find: (l: string) => (log.push(`find ${l}`), l === "a@x.com" ? { owner: "o" } : null),
    reserveIfFree: (r: Reservation) => (log.push(`reserve ${r.login}`), true),
  } as unknown as Port;
  assert.equal(
    runSync(prefetching(), syncPort),
    JSON.stringify([null, null, { owner: "o" }, true, { owner: "o" }]),
  );
  assert.deepEqual(log, [
    "findDecision e1",
    "findForOwner o a@x.com",
    "find a@x.com",
    "reserve b@x.com",
    "find a@x.com",
  ]);
});
