// deno-lint-ignore-file no-console -- benchmark output
/**
 * `deno task bench`: the real service (TLS, a database file on disk, auth on) against a bare
 * TLS floor server that reads the body and answers 204, under the same Okta-shaped wrk load, at
 * several connection counts, with keep-alive and with a new TLS connection per request. The two
 * targets alternate over several rounds; the medians are printed per setting.
 *
 * Options: --duration=SECONDS per run (5), --rounds=N (3), --connections=1,16,64,
 * --modes=keep-alive,close, --engine=sqlite|postgres (the service's store; postgres starts a
 * throw-away cluster with tests/pg_cluster.sh), --logins=N (seed the index with N made-up logins
 * first, as `deno task seed` does: the service's cost at scale), --keep (keep the database and
 * certificate under data/bench-tmp/). Needs wrk on PATH (Debian: `wrk`).
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { makeLogins, runTask, writeCsv } from "./_logins.ts";
import {
  fixed,
  freePort,
  machine,
  makeBenchDir,
  median,
  processCpuSeconds,
  shown,
  table,
  taskArgs,
  tcpActiveOpens,
  waitUntilUp,
  writeCertificate,
} from "./_bench_utils.ts";

/** The secret the benchmark's service accepts. */
const SECRET = "bench-secret-0123456789abcdef";
const LOAD_SCRIPT = "bench/load.lua";
/** Subprocesses run the deno on PATH, which `--allow-run=deno` names. */
const DENO = "deno";

type Mode = "keep-alive" | "close";
type Target = "service" | "floor";

/** One wrk run's figures. */
interface RunResult {
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
  },
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

if (!await hasWrk()) {
  console.error(
    "wrk is not installed: the load generator of this benchmark. On Debian or Ubuntu run\n" +
      "  sudo apt-get install -y wrk\nthen run `deno task bench` again.",
  );
  Deno.exit(1);
}

const dir = await makeBenchDir("bench-");
const tls = await writeCertificate(dir);
const servicePort = freePort();
const floorPort = freePort();

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
let seeded = "none";
if (logins > 0) {
  const file = join(dir, "logins.csv");
  await writeCsv(file, makeLogins(logins), "login");
  const run = await runTask("seed", [file], store).catch(async (error) => {
    await cluster?.stop();
    throw error;
  });
  seeded = `${logins} logins, seeded by \`deno task seed\` in ${fixed(run.seconds, 1)} s`;
}
const serviceArgs = [...await taskArgs("start", [], store)];
const service = new Deno.Command(DENO, {
  args: serviceArgs,
  env: {
    PORT: String(servicePort),
    BIND_ADDRESS: "127.0.0.1",
    HOOK_AUTH_SECRET: SECRET,
    ...store,
    TLS_CERT_FILE: tls.certFile,
    TLS_KEY_FILE: tls.keyFile,
  },
  stdin: "null",
  stdout: "null", // one JSON log line per request, as in production, but not kept
  stderr: "inherit",
}).spawn();
const floorArgs = [
  "run",
  "--allow-net=127.0.0.1",
  `--allow-read=${dir}`,
  "bench/floor_server.ts",
  String(floorPort),
  tls.certFile,
  tls.keyFile,
];
const floor = new Deno.Command(DENO, {
  args: floorArgs,
  stdin: "null",
  stdout: "null",
  stderr: "inherit",
}).spawn();

const urls: Record<Target, string> = {
  service: `https://127.0.0.1:${servicePort}/hooks/import`,
  floor: `https://127.0.0.1:${floorPort}/hooks/import`,
};
const pids: Record<Target, number> = { service: service.pid, floor: floor.pid };

try {
  await waitUntilUp(`https://127.0.0.1:${servicePort}/healthz`, tls.cert);
  await waitUntilUp(`https://127.0.0.1:${floorPort}/`, tls.cert);

  console.log(await machine());
  console.log(`engine:  ${options.engine}${cluster === null ? "" : ` (${cluster.url})`}`);
  console.log(`index:   ${seeded}`);
  console.log(`service: PORT=${servicePort} ... ${shown(DENO, serviceArgs)}`);
  console.log(`floor:   ${shown(DENO, floorArgs)}`);
  console.log(
    `load:    wrk -t1 -c<N> -d${duration}s --timeout 5s -s ${LOAD_SCRIPT} <url> -- <run> <secret> <mode>`,
  );
  console.log(`${rounds} rounds, targets alternating; medians over rounds\n`);

  // Warm up both (JIT, page cache, the database file) before anything is measured.
  for (const target of ["service", "floor"] as const) await runWrk(target, 16, "keep-alive", 2);

  const results = new Map<string, RunResult[]>();
  for (let round = 0; round < rounds; round++) {
    for (const mode of MODES) {
      for (const connections of connectionCounts) {
        const order: Target[] = round % 2 === 0 ? ["service", "floor"] : ["floor", "service"];
        for (const target of order) {
          const result = await runWrk(target, connections, mode, duration);
          const key = `${mode} ${connections} ${target}`;
          results.set(key, [...(results.get(key) ?? []), result]);
          console.log(
            `round ${round + 1} ${mode.padEnd(10)} c=${String(connections).padEnd(2)} ${
              target.padEnd(7)
            } ${fixed(result.requestsPerSecond, 0)} req/s p50 ${fixed(result.p50Ms, 2)} ms p99 ${
              fixed(result.p99Ms, 2)
            } ms${result.errors > 0 ? ` ERRORS ${result.errors}` : ""}`,
          );
        }
      }
    }
  }
  console.log();
  console.log(report(results));
} finally {
  for (const child of [service, floor]) {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  }
  if (cluster !== null) await cluster.stop();
  if (!options.keep) await Deno.remove(dir, { recursive: true });
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

function report(results: Map<string, RunResult[]>): string {
  const rows: string[][] = [];
  for (const mode of MODES) {
    for (const connections of connectionCounts) {
      const service = results.get(`${mode} ${connections} service`) ?? [];
      const floor = results.get(`${mode} ${connections} floor`) ?? [];
      const serviceRps = median(service.map((r) => r.requestsPerSecond));
      const floorRps = median(floor.map((r) => r.requestsPerSecond));
      rows.push([
        mode,
        String(connections),
        fixed(serviceRps, 0),
        fixed(floorRps, 0),
        `${fixed((100 * serviceRps) / floorRps, 0)}%`,
        `${fixed(median(service.map((r) => r.p50Ms)), 2)} / ${
          fixed(median(floor.map((r) => r.p50Ms)), 2)
        }`,
        `${fixed(median(service.map((r) => r.p99Ms)), 2)} / ${
          fixed(median(floor.map((r) => r.p99Ms)), 2)
        }`,
        `${fixed(100 * median(service.map((r) => r.serverCpu)), 0)}% / ${
          fixed(100 * median(floor.map((r) => r.serverCpu)), 0)
        }%`,
        `${fixed(100 * median(service.map((r) => r.wrkCpu)), 0)}% / ${
          fixed(100 * median(floor.map((r) => r.wrkCpu)), 0)
        }%`,
        `${fixed(median(service.map((r) => r.connectsPerRequest)), 2)} / ${
          fixed(median(floor.map((r) => r.connectsPerRequest)), 2)
        }`,
        String([...service, ...floor].reduce((sum, r) => sum + r.errors, 0)),
      ]);
    }
  }
  return [
    table([
      "connection",
      "c",
      "service req/s",
      "floor req/s",
      "service/floor",
      "p50 ms svc/floor",
      "p99 ms svc/floor",
      "server CPU svc/floor",
      "wrk CPU svc/floor",
      "connects/req",
      "errors",
    ], rows),
    "",
    "CPU is the share of one core over the run (the machine has " +
    `${navigator.hardwareConcurrency}); wrk runs one thread.`,
    "Latency is wrk's: from sending the request to the end of the response (with a new",
    "connection per request, the TCP and TLS handshakes come before it and count in req/s only).",
  ].join("\n");
}

async function runWrk(
  target: Target,
  connections: number,
  mode: Mode,
  seconds: number,
): Promise<RunResult> {
  const run = `${target[0]}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const args = [
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    "--timeout",
    "5s",
    "-s",
    LOAD_SCRIPT,
    urls[target],
    "--",
    run,
    SECRET,
    mode,
  ];
  const serverCpuBefore = await processCpuSeconds(pids[target]);
  const opensBefore = await tcpActiveOpens();
  // sh's `times` reports the CPU its child, wrk, used.
  const output = await new Deno.Command("sh", {
    args: ["-c", 'wrk "$@"; status=$?; times; exit $status', "sh", ...args],
    stdin: "null",
  }).output();
  const serverCpu = (await processCpuSeconds(pids[target])) - serverCpuBefore;
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

async function hasWrk(): Promise<boolean> {
  try {
    await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" })
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
