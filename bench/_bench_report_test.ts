import assert from "node:assert/strict";
import { type RunResult, targetLines } from "./_bench_report.ts";
import type { Target } from "./_peers.ts";

const run = (requestsPerSecond: number, p50Ms: number, p99Ms: number): RunResult => ({
  requestsPerSecond,
  p50Ms,
  p99Ms,
  errors: 0,
  wrkCpu: 0.1,
  serverCpu: 1,
  connectsPerRequest: 0,
});

/** One connection's service and peers: the p50 bound is 0.35 + 0.2 = 0.55 ms, 2,000 req/s asked. */
const ONE_CONNECTION = {
  service: run(1000, 0.8, 5),
  express: run(2500, 0.3, 9),
  durable: run(2400, 0.35, 3),
};

const runs = (figures: Partial<Record<Target, RunResult>>) => (target: Target) =>
  figures[target] === undefined ? [] : [figures[target]!];

Deno.test("the report says which targets are met, against this run's peers", () => {
  const lines = targetLines(
    16,
    runs({ service: run(9000, 1, 12), express: run(4000, 3, 15), durable: run(20000, 1, 5) }),
    undefined,
    2,
  );
  assert.deepEqual(lines, [
    "  c=16 req/s >= 2x Express: 9000.00 vs 8000.00 met",
    "  c=16 req/s >= 0.4x durable floor: 9000.00 vs 8000.00 met",
    "  c=16 p99 <= 10 ms: 12.00 vs 10.00 NOT met",
    "  c=16 CPU per request: the service 111 µs (all its threads), the durable floor 50, wrk 11; " +
    "at 8000 req/s 2 cores leave the service 239 µs a request: within it",
  ]);
});

Deno.test("the report sets the service's CPU per request against what the cores allow", () => {
  const service = { ...run(4000, 4, 20), serverCpu: 1.4, wrkCpu: 0.2 }; // 350 µs, wrk 50
  const lines = targetLines(
    64,
    runs({ service, express: run(2400, 20, 40), durable: { ...run(20000, 2, 5), serverCpu: 0.8 } }),
    undefined,
    2,
  );
  // 0.35x the durable floor (7,000 req/s) asks more than 2.5x Express (6,000): 2 cores give
  // 286 µs a request at 7,000, less wrk's 50.
  assert.equal(
    lines.at(-1),
    "  c=64 CPU per request: the service 350 µs (all its threads), the durable floor 40, wrk 50; " +
      "at 7000 req/s 2 cores leave the service 236 µs a request: 1.48x too much",
  );
});

Deno.test("at one connection the loop alone also says how much of the p50 bound it leaves", () => {
  const lines = targetLines(
    1,
    runs(ONE_CONNECTION),
    { group: 1, perSecond: 3000, groupP50Ms: 0.3, cpuUs: 100 },
  );
  assert.deepEqual(lines.slice(2), [
    "  c=1 the decision loop alone, groups of 1 (no HTTP): 3000 decisions/s, 1.50x the req/s " +
    "the targets need; the service does 0.33x of it",
    "  c=1 its group p50 0.30 ms leaves 0.25 ms of the p50 bound for TLS, HTTP, the guard and the handler",
  ]);
});

Deno.test("the loop alone is set against the larger of the req/s the targets ask", () => {
  const lines = targetLines(
    16,
    runs({ service: run(9000, 1, 8), express: run(4000, 3, 15), durable: run(25000, 1, 5) }),
    { group: 16, perSecond: 12000, groupP50Ms: 1.3, cpuUs: 90 },
  );
  // 0.4x the durable floor (10,000) asks more than 2x Express (8,000).
  assert.equal(
    lines.at(-1),
    "  c=16 the decision loop alone, groups of 16 (no HTTP): 12000 decisions/s, 1.20x the req/s " +
      "the targets need; the service does 0.75x of it",
  );
});

Deno.test("without both peers measured, no target is judged", () => {
  assert.deepEqual(targetLines(16, runs({ service: run(9000, 1, 5) }), undefined), []);
  assert.deepEqual(targetLines(8, runs({}), undefined), []);
});

Deno.test("the service's parts measured alone are summed against what the cores leave", () => {
  const cpu = (requestsPerSecond: number, serverCpu: number) => ({
    ...run(requestsPerSecond, 1, 5),
    serverCpu,
    wrkCpu: 0.2,
  });
  const lines = targetLines(
    64,
    runs({
      service: cpu(4000, 1.4),
      express: run(2400, 20, 40),
      durable: run(20000, 2, 5),
      handler: cpu(10000, 0.9), // 90 µs a request
      guarded: cpu(8000, 1.2), // 150: the guard 60
    }),
    { group: 64, perSecond: 14000, groupP50Ms: 4, cpuUs: 95 },
    2,
  );
  // 7,000 req/s asked: 286 µs a request from 2 cores, less wrk's 50 (0.2 of a core at 4,000).
  assert.ok(lines.includes(
    "  c=64 the parts alone, CPU a request: the handler with no database 90 + the guard 60 + " +
      "the decision loop in groups of 64 95 = 245 µs, against the 236 the cores leave: " +
      "out of reach (1.04x)",
  ));
});

Deno.test("at one connection the parts' p50s are summed against the p50 bound", () => {
  const lines = targetLines(
    1,
    runs({ ...ONE_CONNECTION, handler: run(5000, 0.15, 2), guarded: run(3500, 0.25, 2) }),
    { group: 1, perSecond: 3000, groupP50Ms: 0.28, cpuUs: 100 },
  );
  assert.ok(lines.includes(
    "  c=1 the parts alone, one after another: the handler behind the guard (no database) " +
      "p50 0.25 ms + the decision loop's p50 0.28 ms = 0.53 ms (about 1887 req/s one at a time, " +
      "2000 asked), against the p50 bound 0.55 ms: not ruled out by its parts",
  ));
});

Deno.test("without the handler measured alone, no parts are summed", () => {
  const lines = targetLines(
    16,
    runs({ service: run(9000, 1, 8), express: run(4000, 3, 15), durable: run(25000, 1, 5) }),
    { group: 16, perSecond: 12000, groupP50Ms: 1.3, cpuUs: 90 },
  );
  assert.ok(lines.every((line) => !line.includes("the parts alone")));
});

Deno.test("at one connection the write-and-sync floor is set against the p50 bound", () => {
  const lines = targetLines(
    1,
    runs({
      service: run(1200, 0.7, 5),
      express: run(2200, 0.4, 9),
      durable: run(2300, 0.4, 3),
      synced: run(1300, 0.68, 4),
    }),
    undefined,
  );
  assert.equal(
    lines.at(-1),
    "  c=1 the handler behind the guard, writing and fdatasyncing a lone decision's WAL bytes " +
      "in place of the decision: p50 0.68 ms, 1300 req/s; against the p50 bound 0.60 ms: " +
      "out of reach (1.13x); the service's p50 is 0.02 ms above it",
  );
});

Deno.test("the service with no-op syncs is set against the rate asked, and at c=1 against the p50 bound", () => {
  const nosync = { ...run(4000, 3, 12), serverCpu: 1.2 }; // 300 µs a request
  const many = targetLines(
    16,
    runs({
      service: run(3500, 4, 15),
      express: run(3000, 5, 20),
      durable: run(12000, 1, 4),
      nosync,
    }),
    undefined,
    2,
  );
  // 2x Express (6,000) asks more than 0.4x the durable floor (4,800).
  assert.equal(
    many.at(-1),
    "  c=16 the service with fsync and fdatasync made no-ops (eatmydata; all else the same): " +
      "4000 req/s, 300 µs CPU a request; 0.67x the 6000 req/s asked: short of it even so",
  );
  const one = targetLines(
    1,
    runs({ ...ONE_CONNECTION, nosync: run(2000, 0.5, 3) }),
    undefined,
  );
  assert.equal(
    one.at(-1),
    "  c=1 the service with fsync and fdatasync made no-ops (eatmydata; all else the same): " +
      "p50 0.50 ms, 2000 req/s; against the p50 bound 0.55 ms: within it",
  );
});
