// deno-lint-ignore-file no-console -- benchmark output
/**
 * `deno task bench:timeline`: where one request's time goes at one connection, step by step from
 * the guard's first read of the request to its last write of the response, measured inside the
 * real service (bench/_timeline_service.ts) under wrk at c=1, keep-alive, Okta-shaped load. The
 * steps' medians are printed beside wrk's own median and the durable floor's
 * (../shared/peers/durable-floor) in the same run: what the service does beyond an fdatasync.
 *
 * Options: --duration=SECONDS per run (8), --rounds=N (3, service and floor in turn), --peers=DIR.
 */

import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  fixed,
  freePort,
  machine,
  makeBenchDir,
  median,
  SECRET,
  table,
  taskArgs,
  waitUntilUp,
  writeCertificate,
} from "./_bench_utils.ts";
import { startPeer } from "./_peers.ts";

const { values: options } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "8" },
    rounds: { type: "string", default: "3" },
    peers: { type: "string", default: "../shared/peers" },
  },
});

/** The edges the harness stamps, in the order a request crosses them. */
const EDGES = [
  "guardRead",
  "guardPassedRequest",
  "handlerStart",
  "handedOff",
  "committed",
  "synced",
  "handedBack",
  "handlerEnd",
  "guardReadResponse",
  "guardWroteResponse",
] as const;

/** What happens between each edge and the next. */
const STEPS = [
  "guard: the request's bytes passed on to the loopback Deno.serve",
  "loopback TCP, TLS decrypt, HTTP parse (Deno.serve, Rust)",
  "handler: route, auth, body, JSON + zod, the event, the queue",
  "(worker: postMessage, wake-up) decide, BEGIN ... COMMIT",
  "fdatasync of the WAL",
  "(worker: file checks, the reply message, the serving thread woken)",
  "(alone: file checks) resume: the reply, metrics, the log line",
  "Deno.serve writes the response: TLS encrypt, loopback TCP to the guard",
  "guard: the response written to the client",
];

type Stamps = Record<(typeof EDGES)[number], number>;

const dir = await makeBenchDir("timeline-");
const tls = await writeCertificate(dir);
const port = freePort();
const launched = await taskArgs("start", [], { DB_PATH: `${dir}/hook.db` });
// The start task's V8 flags, every permission (the harness wraps globals), the harness for main.ts.
const v8 = launched.filter((arg) => arg.startsWith("--v8-flags"));
const args = ["run", ...v8, "-A", "bench/_timeline_service.ts"];
const service = new Deno.Command("deno", {
  args,
  env: {
    PORT: String(port),
    BIND_ADDRESS: "127.0.0.1",
    HOOK_AUTH_SECRET: SECRET,
    DB_PATH: `${dir}/hook.db`,
    TLS_CERT_FILE: tls.certFile,
    TLS_KEY_FILE: tls.keyFile,
  },
  stdin: "null",
  stdout: "null",
  stderr: "piped",
}).spawn();
let collected: Stamps[] = [];
const reading = (async () => {
  let rest = "";
  for await (const chunk of service.stderr.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    const lines = rest.split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith("TIMELINE ")) collected.push(JSON.parse(line.slice(9)));
      else if (line.trim() !== "") console.error(line);
    }
  }
})();
const durable = await startPeer("durable", {
  dir,
  peers: resolve(options.peers),
  certFile: tls.certFile,
  keyFile: tls.keyFile,
  secret: SECRET,
});

try {
  await waitUntilUp(`https://127.0.0.1:${port}/healthz`, tls.cert);
  await waitUntilUp(durable.upUrl, tls.cert);
  console.log(await machine());
  console.log(`service: deno ${args.join(" ")}`);
  console.log(`durable: ${durable.shown}`);
  const seconds = Number(options.duration);
  const rounds = Number(options.rounds);
  await wrk(port, 16, 2);
  await wrk(durable.port, 16, 2);
  const serviceP50: number[] = [];
  const floorP50: number[] = [];
  const steps: number[][] = STEPS.map(() => []);
  const inside: number[] = [];
  for (let round = 0; round < rounds; round++) {
    collected = [];
    const s = await wrk(port, 1, seconds);
    const complete = collected.filter((t) => EDGES.every((edge) => typeof t[edge] === "number"));
    serviceP50.push(s.p50Us);
    STEPS.forEach((_, i) => {
      steps[i]!.push(median(complete.map((t) => 1000 * (t[EDGES[i + 1]!] - t[EDGES[i]!]))));
    });
    inside.push(median(complete.map((t) => 1000 * (t.guardWroteResponse - t.guardRead))));
    const f = await wrk(durable.port, 1, seconds);
    floorP50.push(f.p50Us);
    console.log(
      `round ${
        round + 1
      }: service ${s.requests} requests (${complete.length} timed), p50 ${s.p50Us} us; durable floor p50 ${f.p50Us} us`,
    );
  }
  const rows = STEPS.map((step, i) => [step, fixed(median(steps[i]!), 1)]);
  const sum = steps.reduce((total, values) => total + median(values), 0);
  const wall = median(serviceP50);
  rows.push([
    "sum of the steps' medians (the guard's first read to its last write)",
    fixed(sum, 1),
  ]);
  rows.push(["median of the same span, per request", fixed(median(inside), 1)]);
  rows.push([
    "wrk and the kernel between wrk and the guard (wrk's p50 - the span)",
    fixed(
      wall - median(inside),
      1,
    ),
  ]);
  rows.push(["wrk's p50, c=1 keep-alive", fixed(wall, 1)]);
  rows.push(["the durable floor's p50 in the same run", fixed(median(floorP50), 1)]);
  console.log();
  console.log(table(["step (medians over rounds of each round's median)", "us"], rows));
} finally {
  service.kill("SIGTERM");
  durable.child.kill("SIGTERM");
  await service.status;
  await durable.child.status;
  await reading;
  await Deno.remove(dir, { recursive: true });
}

/** One wrk run of the Okta-shaped load at `connections`; its request count and p50. */
async function wrk(
  target: number,
  connections: number,
  seconds: number,
): Promise<{ requests: number; p50Us: number }> {
  const run = `t${Date.now().toString(36)}`;
  const output = await new Deno.Command("wrk", {
    args: [
      "-t1",
      `-c${connections}`,
      `-d${seconds}s`,
      "--timeout",
      "5s",
      "-s",
      "bench/load.lua",
      `https://127.0.0.1:${target}/hooks/import`,
      "--",
      run,
      SECRET,
      "keep-alive",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const line = new TextDecoder().decode(output.stdout).split("\n").find((l) =>
    l.startsWith("BENCH_RESULT ")
  );
  if (line === undefined) throw new Error("wrk printed no result");
  const result = JSON.parse(line.slice("BENCH_RESULT ".length));
  return { requests: result.requests, p50Us: result.p50Us };
}
