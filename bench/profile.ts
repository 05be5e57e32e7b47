// deno-lint-ignore-file no-console -- benchmark output
/**
 * `deno task bench:profile`: where one request's time goes.
 *
 * 1. In process: the service's own steps (auth, read body, parse, decide, commit, respond, log)
 *    timed one by one over Okta-shaped requests, decisions committed in groups of 16 as at c=16.
 * 2. Under load: the real service run with `--cpu-prof` while wrk drives it (keep-alive); each
 *    V8 sample is charged to the pipeline step of the nearest lib/ frame on its stack.
 *
 * Options: --requests=N for part 1 (20000), --duration=SECONDS (8) and --connections=N (16) for
 * part 2, --keep.
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { AuditLog } from "../lib/store/sqlite_audit.ts";
import { createSecretCheck } from "../lib/hook/auth.ts";
import { openDatabase } from "../lib/store/database.ts";
import { type Decided, decideEvent } from "../lib/decision/decide_event.ts";
import { commitGroup } from "../lib/store/group_commit.ts";
import { type HookEvent, readHookEvent } from "../lib/decision/hook_event.ts";
import { parseHookRequest } from "../lib/decision/hook_schema.ts";
import { createLogger } from "../lib/log.ts";
import { LoginIndex, sqlitePort } from "../lib/store/sqlite_login_index.ts";
import { toResponse } from "../lib/hook/http_reply.ts";
import { readBody } from "../lib/hook/read_body.ts";
import { STRATEGY_NAMES } from "../lib/config.ts";
import {
  fixed,
  freePort,
  makeBenchDir,
  median,
  processCpuSeconds,
  SECRET,
  shown,
  table,
  taskArgs,
  waitUntilUp,
  writeCertificate,
} from "./_bench_utils.ts";
import { loadBodies } from "./_okta_load.ts";

const GROUP = 16;
const STEPS = ["auth", "read body", "parse", "event", "decide", "commit", "respond", "log"];

const { values: options } = parseArgs({
  args: Deno.args,
  options: {
    requests: { type: "string", default: "20000" },
    duration: { type: "string", default: "8" },
    connections: { type: "string", default: "16" },
    keep: { type: "boolean", default: false },
  },
});

async function timeSteps(requests: number): Promise<string> {
  const db = openDatabase(join(dir, "steps.db"));
  const port = sqlitePort(new LoginIndex(db), new AuditLog(db));
  const checkAuth = createSecretCheck([SECRET], "Authorization");
  const log = createLogger({ write() {}, flush() {} });
  const attributes = { ownerAttributes: ["externalId"], middleNameAttribute: "middleName" };
  const passes: Record<string, number>[] = [];
  try {
    for (let pass = 0; pass < 6; pass++) {
      const bodies = loadBodies(`p${pass}x`);
      const totals: Record<string, number> = Object.fromEntries(STEPS.map((s) => [s, 0]));
      for (let done = 0; done < requests; done += GROUP) {
        const events = [];
        for (let i = 0; i < GROUP; i++) {
          const body = bodies.next().value!;
          const headers = new Headers({
            authorization: SECRET,
            "content-type": "application/json",
          });
          let t = performance.now();
          if (!checkAuth(headers).ok) throw new Error("Auth failed");
          totals["auth"]! += performance.now() - t;
          const request = new Request("https://127.0.0.1/hooks/import", {
            method: "POST",
            headers,
            body,
          });
          t = performance.now();
          const read = await readBody(request);
          totals["read body"]! += performance.now() - t;
          if (!read.ok) throw new Error(read.reason);
          t = performance.now();
          const parsed = parseHookRequest(read.text);
          totals["parse"]! += performance.now() - t;
          if (!parsed.ok) throw new Error(parsed.summary);
          t = performance.now();
          events.push(eventOf(readHookEvent(parsed.value, attributes)));
          totals["event"]! += performance.now() - t;
        }
        let decideMs = 0;
        const started = performance.now();
        const decided = commitGroup(
          db,
          events.map((event) => () => {
            const t = performance.now();
            const result = decideEvent(event, port, STRATEGY_NAMES, {
              receivedAt: new Date().toISOString(),
              elapsedMs: 0,
            });
            decideMs += performance.now() - t;
            return result;
          }),
        ).map((outcome) => {
          if (!outcome.ok) throw outcome.error;
          return outcome.value as Decided;
        });
        totals["decide"]! += decideMs;
        totals["commit"]! += performance.now() - started - decideMs;
        for (const d of decided) {
          let t = performance.now();
          const response = toResponse(d.reply);
          totals["respond"]! += performance.now() - t;
          t = performance.now();
          log.request({ method: "POST", path: "/hooks/import", status: response.status, ms: 1 });
          totals["log"]! += performance.now() - t;
        }
      }
      if (pass > 0) passes.push(totals); // the first pass warms up
    }
  } finally {
    db.close();
  }
  const rows = STEPS.map((step) => [
    step,
    fixed((1000 * median(passes.map((p) => p[step]!))) / requests, 1),
  ]);
  const total = (1000 * median(passes.map((p) => STEPS.reduce((s, k) => s + p[k]!, 0)))) /
    requests;
  rows.push(["total", fixed(total, 1)]);
  return [
    table(["step", "µs/request"], rows),
    "",
    `commit: BEGIN, savepoints, COMMIT with its fsync, shared by ${GROUP} requests (in the service this runs on the database worker)`,
  ].join("\n");
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: number[];
}

/** Which pipeline step a lib/ file's frames belong to. */
const STEP_OF_FILE: Record<string, string> = {
  "auth.ts": "auth",
  "read_body.ts": "read body",
  "hook_schema.ts": "parse",
  "hook_event.ts": "event",
  "decide_event.ts": "decide",
  "resolve_login.ts": "decide",
  "sqlite_login_index.ts": "decide",
  "sqlite_audit.ts": "decide",
  "suffix.ts": "decide",
  "candidates.ts": "decide",
  "fold_name.ts": "decide",
  "owner.ts": "decide",
  "quote.ts": "decide",
  "steps.ts": "decide",
  "records.ts": "decide",
  "oauth.ts": "auth",
  "guard.ts": "connection guard (guard.ts)",
  "service.ts": "handler glue (routes.ts, service.ts)",
  "metrics.ts": "metrics",
  "refusals.ts": "handler glue (routes.ts, service.ts)",
  "refusal_recorder.ts": "handler glue (routes.ts, service.ts)",
  "in_flight.ts": "handler glue (routes.ts, service.ts)",
  "request_path.ts": "handler glue (routes.ts, service.ts)",
  "worker_protocol.ts": "fdatasync of the WAL, file checks (sqlite_committer.ts)",
  "group_commit.ts": "savepoints (group_commit.ts)",
  "database.ts": "BEGIN and COMMIT (database.ts)",
  "decision_store.ts": "hand-off to the database worker",
  "commit_queue.ts": "hand-off to the database worker",
  "sqlite_store.ts": "hand-off to the database worker",
  "pg_store.ts": "hand-off to the database worker",
  "decision_worker.ts": "fdatasync of the WAL, file checks (sqlite_committer.ts)",
  "sqlite_committer.ts": "fdatasync of the WAL, file checks (sqlite_committer.ts)",
  "okta_response.ts": "respond",
  "http_reply.ts": "respond",
  "log.ts": "log",
  "routes.ts": "handler glue (routes.ts, service.ts)",
};

async function profileService(seconds: number): Promise<string> {
  const tls = await writeCertificate(dir);
  const port = freePort();
  const profDir = join(dir, "cpuprof");
  const [run, ...rest] = await taskArgs("start");
  const args = [run!, "--cpu-prof", `--cpu-prof-dir=${profDir}`, ...rest];
  const service = new Deno.Command("deno", {
    args,
    env: {
      PORT: String(port),
      BIND_ADDRESS: "127.0.0.1",
      HOOK_AUTH_SECRET: SECRET,
      DB_PATH: join(dir, "profile.db"),
      TLS_CERT_FILE: tls.certFile,
      TLS_KEY_FILE: tls.keyFile,
    },
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  let requests = 0;
  let cpu = 0;
  try {
    await waitUntilUp(`https://127.0.0.1:${port}/healthz`, tls.cert);
    const cpuBefore = await processCpuSeconds(service.pid);
    const wrk = await new Deno.Command("wrk", {
      args: [
        "-t1",
        `-c${options.connections}`,
        `-d${seconds}s`,
        "-s",
        "bench/load.lua",
        `https://127.0.0.1:${port}/hooks/import`,
        "--",
        `prof${Date.now().toString(36)}`,
        SECRET,
        "keep-alive",
      ],
      stdin: "null",
    }).output();
    cpu = (await processCpuSeconds(service.pid)) - cpuBefore;
    const line = new TextDecoder().decode(wrk.stdout).split("\n").find((l) =>
      l.startsWith("BENCH_RESULT ")
    );
    requests = line ? JSON.parse(line.slice("BENCH_RESULT ".length)).requests : 0;
  } finally {
    service.kill("SIGTERM");
    await service.status;
  }
  const files = [...Deno.readDirSync(profDir)].filter((e) => e.name.endsWith(".cpuprofile"));
  if (files.length === 0) return "No .cpuprofile was written";
  const sections: string[] = [];
  for (const file of files) {
    const profile = JSON.parse(await Deno.readTextFile(join(profDir, file.name))) as CpuProfile;
    sections.push(threadTable(profile, requests));
  }
  return [
    `command: PORT=${port} ... ${shown("deno", args)}`,
    `${requests} requests in ${seconds} s (${fixed(requests / seconds, 0)} req/s); service CPU ${
      fixed(cpu, 2)
    } s = ${fixed((1e6 * cpu) / Math.max(1, requests), 0)} µs per request (all threads)`,
    "",
    ...sections,
    "Samples are charged to the lib/ file closest to the top of their stack, so SQLite calls",
    "count in the file that makes them. Time outside any lib/ frame is Deno's own: the HTTP and",
    "TLS stack (native, shown as (program)), its JS glue, and garbage collection. Each thread",
    "(the serving thread, the database worker) writes a profile of its own. V8 samples by the",
    "clock: a thread blocked in a call (the worker in fdatasync) counts as busy in that call.",
  ].join("\n");
}

interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** One thread's samples charged to steps, as a titled table. */
function threadTable(profile: CpuProfile, requests: number): string {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const isWorker = profile.nodes.some((n) =>
    n.callFrame.url.endsWith("/lib/store/decision_worker.ts")
  );
  const stepOfNode = new Map<number, string>();
  const stepOf = (id: number): string => {
    const known = stepOfNode.get(id);
    if (known !== undefined) return known;
    const leaf = byId.get(id)!.callFrame;
    let step: string | undefined;
    for (let at: number | undefined = id; at !== undefined && step === undefined;) {
      const { url } = byId.get(at)!.callFrame;
      // lib/ is grouped by layer: the file's name says its step.
      const file = /\/lib\/(?:[a-z]+\/)?([a-z_]+\.ts)$/.exec(url)?.[1];
      if (file !== undefined) step = STEP_OF_FILE[file] ?? `other lib/ (${file})`;
      at = parent.get(at);
    }
    step ??= leaf.functionName === "(idle)"
      ? "(idle)"
      : leaf.functionName === "(garbage collector)"
      ? "garbage collection"
      : leaf.functionName === "(program)"
      ? "native runtime: HTTP, TLS, I/O (program)"
      : "runtime JS (Deno.serve, streams, Response, messages)";
    stepOfNode.set(id, step);
    return step;
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const step = stepOf(id);
    totals.set(step, (totals.get(step) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const all = [...totals].reduce((s, [, t]) => s + t, 0);
  const busy = [...totals].filter(([step]) => step !== "(idle)").reduce((s, [, t]) => s + t, 0);
  const rows = [...totals].sort((a, b) => b[1] - a[1]).map(([step, us]) => [
    step,
    step === "(idle)" ? "" : `${fixed((100 * us) / busy, 1)}%`,
    step === "(idle)" || requests === 0 ? "" : fixed(us / requests, 1),
  ]);
  return [
    `### ${isWorker ? "Database worker" : "Serving thread"}: busy ${
      fixed((100 * busy) / Math.max(1, all), 0)
    }% of the sampled time`,
    "",
    table(["where (nearest lib/ frame on the stack)", "share of busy samples", "µs/request"], rows),
    "",
  ].join("\n");
}

const dir = await makeBenchDir("profile-");
try {
  console.log("## Steps timed in process (µs per request, median of 5 passes)\n");
  console.log(await timeSteps(Number(options.requests)));
  console.log(`\n## CPU profile of the service under wrk (c=${options.connections}, keep-alive)\n`);
  console.log(await profileService(Number(options.duration)));
} finally {
  if (!options.keep) await Deno.remove(dir, { recursive: true });
}

function eventOf(result: ReturnType<typeof readHookEvent>): HookEvent {
  if (!result.ok) throw new TypeError(`Bench event refused: ${JSON.stringify(result.problems)}`);
  return result.event;
}
