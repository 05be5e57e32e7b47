/**
 * The report of `deno task bench`: the table of every target's medians, and issue 24's targets
 * met or not, with the decision loop alone beside them.
 */

import { fixed, median, table } from "./_bench_utils.ts";
import type { Target } from "./_peers.ts";
import type { LoopCeiling } from "./_loop_ceiling.ts";

/** With keep-alive, or a new TLS connection per request. */
export type Mode = "keep-alive" | "close";

/** One wrk run's figures. */
export interface RunResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** CPU wrk used, as a share of one core. */
  readonly wrkCpu: number;
  /** CPU the server process used, as a share of one core. */
  readonly serverCpu: number;
  /** TCP connections opened per request completed. */
  readonly connectsPerRequest: number;
}

/** Issue 24's targets per connection count. */
const GOALS: Record<
  number,
  { express: number; durable: number; p50OverDurableMs?: number; p99Ms?: number }
> = {
  1: { express: 0.8, durable: 0, p50OverDurableMs: 0.2 },
  16: { express: 2, durable: 0.4, p99Ms: 10 },
  64: { express: 2.5, durable: 0.35, p99Ms: 25 },
};

/** The median of one figure over a target's rounds. */
function mid(runs: readonly RunResult[], figure: (r: RunResult) => number): number {
  return median(runs.map(figure));
}

/** The table and the targets' lines, for every mode and connection count measured. */
export function report(
  modes: readonly Mode[],
  connectionCounts: readonly number[],
  results: Map<string, RunResult[]>,
  measured: readonly Target[],
  ceilings: ReadonlyMap<number, LoopCeiling>,
): string {
  const rows: string[][] = [];
  const lines: string[] = [];
  for (const mode of modes) {
    for (const connections of connectionCounts) {
      const runs = (t: Target) => results.get(`${mode} ${connections} ${t}`) ?? [];
      const rps = (t: Target) => mid(runs(t), (r) => r.requestsPerSecond);
      for (const target of measured) {
        if (runs(target).length === 0) continue;
        rows.push([
          mode,
          String(connections),
          target,
          fixed(rps(target), 0),
          fixed(mid(runs(target), (r) => r.p50Ms), 2),
          fixed(mid(runs(target), (r) => r.p99Ms), 2),
          `${fixed(100 * mid(runs(target), (r) => r.serverCpu), 0)}%`,
          `${fixed(100 * mid(runs(target), (r) => r.wrkCpu), 0)}%`,
          fixed(mid(runs(target), (r) => r.connectsPerRequest), 2),
          target === "service" ? "" : fixed(rps("service") / rps(target), 2),
          String(runs(target).reduce((sum, r) => sum + r.errors, 0)),
        ]);
      }
      if (mode === "keep-alive") {
        lines.push(...targetLines(connections, runs, ceilings.get(connections)));
      }
    }
  }
  return [
    table([
      "connection",
      "c",
      "target",
      "req/s",
      "p50 ms",
      "p99 ms",
      "server CPU",
      "wrk CPU",
      "connects/req",
      "service / it",
      "errors",
    ], rows),
    "",
    "CPU is the share of one core over the run (the machine has " +
    `${navigator.hardwareConcurrency}); wrk runs one thread.`,
    "Latency is wrk's: from sending the request to the end of the response (with a new",
    "connection per request, the TCP and TLS handshakes come before it and count in req/s only).",
    ...(lines.length === 0 ? [] : ["", "Targets (keep-alive, issue 24):", ...lines]),
  ].join("\n");
}

/** The performance targets at `connections`, each met or not, against this run's peers. */
export function targetLines(
  connections: number,
  runs: (t: Target) => readonly RunResult[],
  ceiling: LoopCeiling | undefined,
  cores: number = navigator.hardwareConcurrency,
): string[] {
  const goal = GOALS[connections];
  if (goal === undefined) return [];
  const service = runs("service");
  const express = runs("express");
  const durable = runs("durable");
  if (service.length === 0 || express.length === 0 || durable.length === 0) return [];
  const rps = (r: readonly RunResult[]) => mid(r, (x) => x.requestsPerSecond);
  const checks: [string, number, number, boolean][] = [
    [`req/s >= ${goal.express}x Express`, rps(service), goal.express * rps(express), true],
  ];
  if (goal.durable > 0) {
    checks.push([
      `req/s >= ${goal.durable}x durable floor`,
      rps(service),
      goal.durable * rps(durable),
      true,
    ]);
  }
  if (goal.p50OverDurableMs !== undefined) {
    const floorP50 = mid(durable, (r) => r.p50Ms);
    checks.push([
      `p50 <= durable floor's + ${goal.p50OverDurableMs} ms`,
      mid(service, (r) => r.p50Ms),
      floorP50 + goal.p50OverDurableMs,
      false,
    ]);
  }
  if (goal.p99Ms !== undefined) {
    checks.push([`p99 <= ${goal.p99Ms} ms`, mid(service, (r) => r.p99Ms), goal.p99Ms, false]);
  }
  const lines = checks.map(([what, value, bound, atLeast]) => {
    const met = atLeast ? value >= bound : value <= bound;
    return `  c=${connections} ${what}: ${fixed(value, 2)} vs ${fixed(bound, 2)} ${
      met ? "met" : "NOT met"
    }`;
  });
  const needed = Math.max(
    ...checks.filter(([, , , atLeast]) => atLeast).map(([, , bound]) => bound),
  );
  // One request at a time is bound by its latency, not by the cores.
  if (connections > 1) lines.push(cpuLine(connections, service, durable, needed, cores));
  const p50Bound = goal.p50OverDurableMs === undefined
    ? null
    : mid(durable, (r) => r.p50Ms) + goal.p50OverDurableMs;
  const parts = partsLine(connections, runs, ceiling, {
    allowedUs: allowedCpu(service, needed, cores),
    neededPerSecond: needed,
    p50BoundMs: p50Bound,
  });
  if (parts !== null) lines.push(parts);
  const synced = runs("synced");
  if (connections === 1 && p50Bound !== null && synced.length > 0) {
    const bound = p50Bound;
    const floor = mid(synced, (r) => r.p50Ms);
    lines.push(
      `  c=1 the handler behind the guard, writing and fdatasyncing a lone decision's WAL bytes ` +
        `in place of the decision: p50 ${fixed(floor, 2)} ms, ${fixed(rps(synced), 0)} req/s; ` +
        `against the p50 bound ${fixed(bound, 2)} ms: ${
          floor <= bound ? "not ruled out" : `out of reach (${fixed(floor / bound, 2)}x)`
        }; the service's p50 is ${fixed(mid(service, (r) => r.p50Ms) - floor, 2)} ms above it`,
    );
  }
  const noSync = noSyncLine(connections, runs("nosync"), needed, p50Bound);
  if (noSync !== null) lines.push(noSync);
  if (ceiling !== undefined) {
    lines.push(
      `  c=${connections} the decision loop alone, groups of ${connections} (no HTTP): ` +
        `${fixed(ceiling.perSecond, 0)} decisions/s, ${
          fixed(ceiling.perSecond / needed, 2)
        }x the req/s the targets need; the service does ${
          fixed(rps(service) / ceiling.perSecond, 2)
        }x of it`,
    );
    if (p50Bound !== null) {
      lines.push(
        `  c=${connections} its group p50 ${fixed(ceiling.groupP50Ms, 2)} ms leaves ${
          fixed(p50Bound - ceiling.groupP50Ms, 2)
        } ms of the p50 bound for TLS, HTTP, the guard and the handler`,
      );
    }
  }
  return lines;
}

/**
 * The service with every fsync and fdatasync returning at once (eatmydata) against what the
 * targets ask: short of it, the disk is not what keeps the service from the target. (Not a strict
 * bound: with no wait for the disk its groups are smaller, so its CPU a request can be higher.)
 */
function noSyncLine(
  connections: number,
  runs: readonly RunResult[],
  neededPerSecond: number,
  p50BoundMs: number | null,
): string | null {
  if (runs.length === 0) return null;
  const head = `  c=${connections} the service with fsync and fdatasync made no-ops (eatmydata; ` +
    `all else the same):`;
  const rps = mid(runs, (r) => r.requestsPerSecond);
  if (connections === 1 && p50BoundMs !== null) {
    const p50 = mid(runs, (r) => r.p50Ms);
    return `${head} p50 ${fixed(p50, 2)} ms, ${fixed(rps, 0)} req/s; against the p50 bound ${
      fixed(p50BoundMs, 2)
    } ms: ${p50 <= p50BoundMs ? "within it" : `${fixed(p50 / p50BoundMs, 2)}x it, even so`}`;
  }
  return `${head} ${fixed(rps, 0)} req/s, ${
    fixed(cpuPerRequest(runs, (r) => r.serverCpu), 0)
  } µs CPU a request; ${fixed(rps / neededPerSecond, 2)}x the ${
    fixed(neededPerSecond, 0)
  } req/s asked: ${rps >= neededPerSecond ? "reached" : "short of it even so"}`;
}

/** Microseconds of CPU per request, from a run's share of a core and its rate. */
function cpuPerRequest(runs: readonly RunResult[], cpu: (r: RunResult) => number): number {
  return mid(runs, (r) => (1e6 * cpu(r)) / r.requestsPerSecond);
}

/**
 * The service's CPU per request against what the machine's cores can give each request at the
 * rate the targets ask, wrk's share taken out: above it, no scheduling or overlap reaches the
 * rate; only less CPU per request does.
 */
function cpuLine(
  connections: number,
  service: readonly RunResult[],
  durable: readonly RunResult[],
  needed: number,
  cores: number,
): string {
  const used = cpuPerRequest(service, (r) => r.serverCpu);
  const wrk = cpuPerRequest(service, (r) => r.wrkCpu);
  const allowed = allowedCpu(service, needed, cores);
  const verdict = used <= allowed ? "within it" : `${fixed(used / allowed, 2)}x too much`;
  return `  c=${connections} CPU per request: the service ${
    fixed(used, 0)
  } µs (all its threads), ` +
    `the durable floor ${fixed(cpuPerRequest(durable, (r) => r.serverCpu), 0)}, wrk ${
      fixed(wrk, 0)
    }; at ${fixed(needed, 0)} req/s ${cores} cores leave the service ${fixed(allowed, 0)} µs ` +
    `a request: ${verdict}`;
}

/** µs of CPU `cores` leave the service per request at `needed` req/s, wrk's share taken out. */
function allowedCpu(service: readonly RunResult[], needed: number, cores: number): number {
  return (cores * 1e6) / needed - cpuPerRequest(service, (r) => r.wrkCpu);
}

/**
 * The service's parts, each measured alone in this run, summed: the handler with no database
 * (`handler`), the guard in front of it (`guarded` less `handler`), and the decision loop in
 * groups of `connections`. With more than one connection they are CPU a request, set against what
 * the cores leave; at one, one request's parts follow one another, so their p50s are summed and
 * set against the p50 bound. The sum leaves out the hand-offs between the parts, so it is a lower
 * bound: above the bound, the target is out of reach of this design on this machine however its
 * parts are arranged; below it, it is only not ruled out. `null` when a part was not measured.
 */
function partsLine(
  connections: number,
  runs: (t: Target) => readonly RunResult[],
  ceiling: LoopCeiling | undefined,
  bounds: {
    readonly allowedUs: number;
    readonly neededPerSecond: number;
    readonly p50BoundMs: number | null;
  },
): string | null {
  const handler = runs("handler");
  const guarded = runs("guarded");
  if (ceiling === undefined || handler.length === 0 || guarded.length === 0) return null;
  const reach = (sum: number, bound: number) =>
    sum <= bound ? "not ruled out by its parts" : `out of reach (${fixed(sum / bound, 2)}x)`;
  if (connections === 1) {
    if (bounds.p50BoundMs === null) return null;
    const guardedP50 = mid(guarded, (r) => r.p50Ms);
    const sum = guardedP50 + ceiling.groupP50Ms;
    return `  c=1 the parts alone, one after another: the handler behind the guard (no database) ` +
      `p50 ${fixed(guardedP50, 2)} ms + the decision loop's p50 ${
        fixed(ceiling.groupP50Ms, 2)
      } ms = ${fixed(sum, 2)} ms (about ${fixed(1000 / sum, 0)} req/s one at a time, ${
        fixed(bounds.neededPerSecond, 0)
      } asked), against the p50 bound ${fixed(bounds.p50BoundMs, 2)} ms: ${
        reach(sum, bounds.p50BoundMs)
      }`;
  }
  const handlerUs = cpuPerRequest(handler, (r) => r.serverCpu);
  const guardUs = cpuPerRequest(guarded, (r) => r.serverCpu) - handlerUs;
  const sum = handlerUs + guardUs + ceiling.cpuUs;
  return `  c=${connections} the parts alone, CPU a request: the handler with no database ${
    fixed(handlerUs, 0)
  } + the guard ${fixed(guardUs, 0)} + the decision loop in groups of ${connections} ${
    fixed(ceiling.cpuUs, 0)
  } = ${fixed(sum, 0)} µs, against the ${fixed(bounds.allowedUs, 0)} the cores leave: ${
    reach(sum, bounds.allowedUs)
  }`;
}
