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

const runs = (figures: Partial<Record<Target, RunResult>>) => (target: Target) =>
  figures[target] === undefined ? [] : [figures[target]!];

Deno.test("the report says which targets are met, against this run's peers", () => {
  const lines = targetLines(
    16,
    runs({ service: run(9000, 1, 12), express: run(4000, 3, 15), durable: run(20000, 1, 5) }),
    undefined,
  );
  assert.deepEqual(lines, [
    "  c=16 req/s >= 2x Express: 9000.00 vs 8000.00 met",
    "  c=16 req/s >= 0.4x durable floor: 9000.00 vs 8000.00 met",
    "  c=16 p99 <= 10 ms: 12.00 vs 10.00 NOT met",
  ]);
});

Deno.test("at one connection the loop alone also says how much of the p50 bound it leaves", () => {
  const lines = targetLines(
    1,
    runs({ service: run(1000, 0.8, 5), express: run(2500, 0.3, 9), durable: run(2400, 0.35, 3) }),
    { group: 1, perSecond: 3000, groupP50Ms: 0.3 },
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
    { group: 16, perSecond: 12000, groupP50Ms: 1.3 },
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
