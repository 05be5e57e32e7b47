// deno-lint-ignore-file no-console -- benchmark output
/**
 * `deno task bench`: the real service (TLS, a database file on disk, auth on) beside its
 * yardsticks (bench/_peers.ts): the durable floor and the Express peer from ../shared/peers, and
 * a bare TLS floor that reads the body and answers 204. All get the same Okta-shaped wrk load, at
 * several connection counts, with keep-alive and with a new TLS connection per request; the
 * targets take turns over several rounds and the medians are printed per setting, with issue
 * 24's targets met or not, and at c=16 and c=64 the service's CPU per request beside what the
 * cores leave it at the rate the targets ask. Three more targets are the service's own parts: the
 * handler with a store that answers at once (bench/pipeline_server.ts), alone, behind the guard,
 * and writing a lone decision's bytes; with the decision loop alone they are summed against each
 * target's bound. The last, `nosync`, is the service itself under eatmydata (Debian's
 * `eatmydata`: fsync and fdatasync return at once): all of it but the wait for the disk.
 *
 * Options: --duration=SECONDS per run (5), --rounds=N (3), --connections=1,16,64,
 * --modes=keep-alive,close, --targets=service,nosync,durable,express,floor,handler,guarded,synced,
 * --peers=DIR (../shared/peers), --engine=sqlite|postgres (the service's store; postgres starts a
 * throw-away cluster with tests/pg_cluster.sh), --logins=N (seed the index with N made-up logins
 * first, as `deno task seed` does: the service's cost at scale), --keep (keep the database and
 * certificate under data/bench-tmp/), --no-loop (skip the decision loop alone,
 * bench/_loop_ceiling.ts, run after the load at each connection count on SQLite). Needs wrk on
 * PATH (Debian: `wrk`), eatmydata for `nosync` (left out without it), and node and npm for the
 * Express peer (its first run installs its packages into data/bench-peers/, about 1.5 minutes).
 */

import { join, resolve } from "node:path";
import { type Peer, spawn, startPeer, type Target, TARGETS } from "./_peers.ts";
import { type LoopCeiling, loopCeiling } from "./_loop_ceiling.ts";
import { type Mode, report, type RunResult } from "./_bench_report.ts";
import { parseArgs } from "node:util";
import { makeLogins, runTask, writeCsv } from "./_logins.ts";
import {
  fixed,
  freePort,
  machine,
  makeBenchDir,
  processCpuSeconds,
  SECRET,
  taskArgs,
  tcpActiveOpens,
  waitUntilUp,
  writeCertificate,
} from "./_bench_utils.ts";

const LOAD_SCRIPT = "bench/load.lua";
/** Subprocesses run the deno on PATH, which `--allow-run=deno` names. */
const DENO = "deno";

/** What wrk's `done` in load.lua prints. */
interface WrkSummary {
  readonly requests: number;
  readonly durationUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly connectErrors: number;
  readonly readErrors: number;
  readonly writeErrors: number;
  readonly statusErrors: number;
  readonly timeouts: number;
}

const { values: options } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "1,16,64" },
    modes: { type: "string", default: "keep-alive,close" },
    keep: { type: "boolean", default: false },
    engine: { type: "string", default: "sqlite" },
    logins: { type: "string", default: "0" },
    targets: { type: "string", default: TARGETS.join(",") },
    peers: { type: "string", default: "../shared/peers" },
    loop: { type: "boolean", default: true },
  },
  allowNegative: true,
});
if (options.engine !== "sqlite" && options.engine !== "postgres") {
  console.error(`--engine takes sqlite or postgres, not "${options.engine}"`);
  Deno.exit(2);
}
const duration = Number(options.duration);
const rounds = Number(options.rounds);
const connectionCounts = options.connections.split(",").map(Number);
const MODES = options.modes.split(",").map((mode): Mode => {
  if (mode === "keep-alive" || mode === "close") return mode;
  console.error(`--modes takes keep-alive and/or close, not "${mode}"`);
  Deno.exit(2);
});

if (!await hasProgram("wrk")) {
  console.error(
    "wrk is not installed: the load generator of this benchmark. On Debian or Ubuntu run\n" +
      "  sudo apt-get install -y wrk\nthen run `deno task bench` again.",
  );
  Deno.exit(1);
}

const dir = await makeBenchDir("bench-");
const tls = await writeCertificate(dir);
const peersDir = resolve(options.peers);
const targets = options.targets.split(",").map((name): Target => {
  if ((TARGETS as readonly string[]).includes(name)) return name as Target;
  console.error(`--targets takes ${TARGETS.join(", ")}, not "${name}"`);
  Deno.exit(2);
});
if (!targets.includes("service")) targets.unshift("service");
const wantsPeers = targets.some((t) => t === "durable" || t === "express");
if (wantsPeers && !await Deno.stat(peersDir).then(() => true, () => false)) {
  console.error(`The peers are not at ${peersDir}: pass --peers=DIR, or --targets=service,floor`);
  Deno.exit(2);
}

// PostgreSQL: a cluster of its own, on this machine like the service (its default database).
const cluster = options.engine === "postgres" ? await startCluster() : null;
const store = cluster === null
  ? { DB_PATH: `${dir}/hook.db` }
  : { DATABASE_URL: `${cluster.url}/postgres` };
const logins = Number(options.logins);
if (!Number.isSafeInteger(logins) || logins < 0) {
  console.error(`--logins takes a count of logins to seed, not "${options.logins}"`);
  Deno.exit(2);
}
// The service's twin that never waits for the disk: SQLite only (PostgreSQL syncs in its server).
if (targets.includes("nosync") && (cluster !== null || !await hasProgram("eatmydata"))) {
  console.error(
    cluster !== null
      ? "--engine=postgres: the nosync target is SQLite's; it is left out"
      : "eatmydata is not installed (Debian: apt-get install -y eatmydata): the nosync target is left out",
  );
  targets.splice(targets.indexOf("nosync"), 1);
}
const stores: [Target, Record<string, string>][] = [["service", store]];
if (targets.includes("nosync")) stores.push(["nosync", { DB_PATH: `${dir}/nosync.db` }]);
let seeded = "none";
if (logins > 0) {
  const file = join(dir, "logins.csv");
  await writeCsv(file, makeLogins(logins), "login");
  for (const [target, each] of stores) {
    const run = await runTask("seed", [file], each).catch(async (error) => {
      await cluster?.stop();
      throw error;
    });
    if (target === "service") {
      seeded = `${logins} logins, seeded by \`deno task seed\` in ${fixed(run.seconds, 1)} s`;
    }
  }
}
const running: Peer[] = [];
for (const [target, each] of stores) running.push(await startService(target, each));

try {
  const setting = { dir, peers: peersDir, ...tls, secret: SECRET };
  for (const target of targets) {
    if (target !== "service" && target !== "nosync") running.push(await startPeer(target, setting));
  }
  for (const peer of running) await waitUntilUp(peer.upUrl, tls.cert);
  const byTarget = new Map(running.map((peer) => [peer.target, peer]));

  console.log(await machine());
  console.log(`engine:  ${options.engine}${cluster === null ? "" : ` (${cluster.url})`}`);
  console.log(`index:   ${seeded}`);
  for (const peer of running) console.log(`${`${peer.target}:`.padEnd(9)}${peer.shown}`);
  console.log(
    `load:    wrk -t1 -c<N> -d${duration}s --timeout 5s -s ${LOAD_SCRIPT} <url> -- <run> <secret> <mode>`,
  );
  console.log(`${rounds} rounds, targets in turn (rotated each round); medians over rounds\n`);

  // Warm up every target (JIT, page cache, the database file) before anything is measured.
  for (const peer of running) await runWrk(peer, 16, "keep-alive", 2);

  const results = new Map<string, RunResult[]>();
  for (let round = 0; round < rounds; round++) {
    for (const mode of MODES) {
      for (const connections of connectionCounts) {
        const order = running.map((_, i) => running[(i + round) % running.length]!);
        for (const peer of order) {
          // It syncs each request on its own: a floor for one connection only.
          if (peer.target === "synced" && connections > 1) continue;
          const result = await runWrk(peer, connections, mode, duration);
          const key = `${mode} ${connections} ${peer.target}`;
          results.set(key, [...(results.get(key) ?? []), result]);
          console.log(
            `round ${round + 1} ${mode.padEnd(10)} c=${String(connections).padEnd(2)} ${
              peer.target.padEnd(7)
            } ${fixed(result.requestsPerSecond, 0)} req/s p50 ${fixed(result.p50Ms, 2)} ms p99 ${
              fixed(result.p99Ms, 2)
            } ms${result.errors > 0 ? ` ERRORS ${result.errors}` : ""}`,
          );
        }
      }
    }
  }
  // The anchor that bounds them all: the decision loop alone, in groups as large as the load's
  // connections (SQLite only: PostgreSQL's loop is another process's).
  const ceilings = new Map<number, LoopCeiling>();
  if (options.loop && cluster === null) {
    for (const connections of connectionCounts) {
      const ceiling = await loopCeiling(connections, 20_000);
      ceilings.set(connections, ceiling);
      console.log(
        `decision loop alone, groups of ${connections}: ${
          fixed(ceiling.perSecond, 0)
        } decisions/s, ` +
          `one group p50 ${fixed(ceiling.groupP50Ms, 2)} ms`,
      );
    }
  }
  console.log();
  console.log(report(MODES, connectionCounts, results, [...byTarget.keys()], ceilings));
} finally {
  for (const { child } of running) {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  }
  if (cluster !== null) await cluster.stop();
  if (!options.keep) await Deno.remove(dir, { recursive: true });
}

/**
 * Starts the service (the `start` task's own command line) on a free port, on `store`; the
 * nosync target under eatmydata, whose preloaded library makes every fsync and fdatasync return
 * at once.
 */
async function startService(target: Target, store: Record<string, string>): Promise<Peer> {
  const port = freePort();
  const args = [...await taskArgs("start", [], store)];
  const [program, programArgs] = target === "nosync"
    ? ["eatmydata", [DENO, ...args]]
    : [DENO, args];
  const env = {
    PORT: String(port),
    BIND_ADDRESS: "127.0.0.1",
    HOOK_AUTH_SECRET: SECRET,
    ...store,
    TLS_CERT_FILE: tls.certFile,
    TLS_KEY_FILE: tls.keyFile,
  };
  // Its log (one JSON line per request, as in production) is dropped with the rest of stdout.
  const peer = spawn(target, port, program, programArgs, env, "/healthz");
  return { ...peer, shown: `PORT=${port} ... ${peer.shown}` };
}

/** A throw-away PostgreSQL cluster (tests/pg_cluster.sh). */
async function startCluster(): Promise<{ url: string; stop(): Promise<void> }> {
  const script = "tests/pg_cluster.sh";
  const started = await new Deno.Command("bash", { args: [script, "start"], stderr: "inherit" })
    .output();
  if (!started.success) Deno.exit(1);
  const [url, data] = new TextDecoder().decode(started.stdout).trim().split(" ");
  return {
    url: url!,
    stop: async () => {
      await new Deno.Command("bash", { args: [script, "stop", data!] }).output();
    },
  };
}

async function runWrk(
  peer: Peer,
  connections: number,
  mode: Mode,
  seconds: number,
): Promise<RunResult> {
  const target = peer.target;
  const run = `${target[0]}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const args = [
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    "--timeout",
    "5s",
    "-s",
    LOAD_SCRIPT,
    `https://127.0.0.1:${peer.port}/hooks/import`,
    "--",
    run,
    SECRET,
    mode,
  ];
  const serverCpuBefore = await processCpuSeconds(peer.child.pid);
  const opensBefore = await tcpActiveOpens();
  // sh's `times` reports the CPU its child, wrk, used.
  const output = await new Deno.Command("sh", {
    args: ["-c", 'wrk "$@"; status=$?; times; exit $status', "sh", ...args],
    stdin: "null",
  }).output();
  const serverCpu = (await processCpuSeconds(peer.child.pid)) - serverCpuBefore;
  const opens = (await tcpActiveOpens()) - opensBefore;
  const stdout = new TextDecoder().decode(output.stdout);
  const line = stdout.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
  if (!output.success || line === undefined) {
    throw new Error(
      `wrk failed on ${target}: ${stdout}${new TextDecoder().decode(output.stderr)}`,
    );
  }
  const s: WrkSummary = JSON.parse(line.slice("BENCH_RESULT ".length));
  const wall = s.durationUs / 1e6;
  return {
    requestsPerSecond: s.requests / wall,
    p50Ms: s.p50Us / 1000,
    p99Ms: s.p99Us / 1000,
    errors: s.connectErrors + s.readErrors + s.writeErrors + s.statusErrors + s.timeouts,
    wrkCpu: childrenCpuSeconds(stdout) / wall,
    serverCpu: serverCpu / wall,
    connectsPerRequest: opens / Math.max(1, s.requests),
  };
}

/** Whether `program` can be run (it is on PATH). */
async function hasProgram(program: string): Promise<boolean> {
  try {
    await new Deno.Command(program, { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** The children's user plus system seconds from the last line of sh's `times`. */
function childrenCpuSeconds(output: string): number {
  const last = output.trim().split("\n").at(-1) ?? "";
  const times = [...last.matchAll(/(\d+)m([\d.]+)s/g)];
  return times.reduce(
    (sum, [, minutes, seconds]) => sum + 60 * Number(minutes) + Number(seconds),
    0,
  );
}
