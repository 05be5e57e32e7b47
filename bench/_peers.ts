// deno-lint-ignore-file no-console -- benchmark output
/**
 * The yardsticks `deno task bench` measures the service beside, in the same run: the bare TLS
 * floor (bench/floor_server.ts) and the two peers in ../shared/peers, run from there, never
 * copied: the durable floor (Deno.serve that answers after an fdatasync, group-committed) and the
 * Express peer (express + better-sqlite3, one synchronous=FULL transaction per request). The
 * Express peer's packages are installed into data/bench-peers/express (shared/ is read-only) and
 * found through NODE_PATH.
 */

import { join } from "node:path";
import { freePort, shown } from "./_bench_utils.ts";

/**
 * What the benchmark measures. `handler` is the service's handler with a store that answers at
 * once (bench/pipeline_server.ts: no database, no guard); `guarded` is the same behind the
 * service's connection guard. With the decision loop alone, they are the service's parts.
 * `synced` is `guarded` writing and fdatasyncing one lone decision's WAL bytes in place of the
 * decision: the floor of the service's one-connection path. `nosync` is the service itself under
 * eatmydata, whose preloaded library makes fsync and fdatasync return at once: all of the service
 * but the wait for the disk.
 */
export type Target =
  | "service"
  | "nosync"
  | "floor"
  | "durable"
  | "express"
  | "handler"
  | "guarded"
  | "synced";
/** Every target, in the order the report lists them. */
export const TARGETS: readonly Target[] = [
  "service",
  "nosync",
  "durable",
  "express",
  "floor",
  "handler",
  "guarded",
  "synced",
];

/** A yardstick's process and where it answers. */
export interface Peer {
  readonly target: Target;
  readonly child: Deno.ChildProcess;
  readonly port: number;
  /** The command line, for the report's header. */
  readonly shown: string;
  /** A URL that answers once it is up (any status below 500). */
  readonly upUrl: string;
}

/** Where the benchmark's files are, and what the peers share with the service. */
export interface PeerSetting {
  readonly dir: string;
  readonly peers: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly secret: string;
}

/** Starts `target` (not the service, nor its nosync twin) on a free port. */
export async function startPeer(
  target: Exclude<Target, "service" | "nosync">,
  s: PeerSetting,
): Promise<Peer> {
  const port = freePort();
  if (target === "floor") {
    const args = [
      "run",
      "--allow-net=127.0.0.1",
      `--allow-read=${s.dir}`,
      "bench/floor_server.ts",
      String(port),
      s.certFile,
      s.keyFile,
    ];
    return spawn(target, port, "deno", args, {}, "/");
  }
  if (target === "handler" || target === "guarded" || target === "synced") {
    const log = join(s.dir, "synced.log");
    const args = [
      "run",
      "--v8-flags=--max-semi-space-size=2", // as the service runs
      "--allow-net=127.0.0.1",
      "--allow-read",
      ...(target === "synced" ? [`--allow-write=${log}`] : []),
      "bench/pipeline_server.ts",
      String(port),
      s.certFile,
      s.keyFile,
      s.secret,
      ...(target === "handler" ? [] : ["--guard"]),
      ...(target === "synced" ? [`--append=${log}`] : []),
    ];
    return spawn(target, port, "deno", args, {}, "/healthz");
  }
  const env = {
    PORT: String(port),
    TLS_CERT_FILE: s.certFile,
    TLS_KEY_FILE: s.keyFile,
    DB_PATH: join(s.dir, `${target}.db`),
    HOOK_AUTH_SECRET: s.secret,
  };
  if (target === "durable") {
    const args = [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env=PORT,TLS_CERT_FILE,TLS_KEY_FILE,DB_PATH",
      "--allow-read",
      "--allow-write",
      join(s.peers, "durable-floor", "server.ts"),
    ];
    return spawn(target, port, "deno", args, env, "/");
  }
  const modules = await installExpress(s.peers);
  return spawn(
    target,
    port,
    "node",
    [join(s.peers, "express", "server.js")],
    { ...env, NODE_PATH: modules, NODE_ENV: "production" },
    "/hooks/import",
  );
}

/** Spawns `program` as `target`'s process, its output dropped, answering at `upPath` once up. */
export function spawn(
  target: Target,
  port: number,
  program: string,
  args: string[],
  env: Record<string, string>,
  upPath: string,
): Peer {
  const child = new Deno.Command(program, {
    args,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  return {
    target,
    child,
    port,
    shown: shown(program, args),
    upUrl: `https://127.0.0.1:${port}${upPath}`,
  };
}

/** The Express peer's packages, installed once (`npm ci`: better-sqlite3 compiles, ~1.5 min). */
const EXPRESS_HOME = "data/bench-peers/express";

/** Installs the Express peer's locked packages where the benchmark may write; their directory. */
async function installExpress(peers: string): Promise<string> {
  const lock = await Deno.readTextFile(join(peers, "express", "package-lock.json"));
  const installed = await Deno.readTextFile(join(EXPRESS_HOME, "package-lock.json")).catch(() =>
    ""
  );
  const modules = join(Deno.cwd(), EXPRESS_HOME, "node_modules");
  const built = await Deno.stat(join(modules, "better-sqlite3", "build", "Release"))
    .then(() => true, () => false);
  if (installed === lock && built) return modules;
  console.error(`Installing the Express peer's packages into ${EXPRESS_HOME} (npm ci) ...`);
  await Deno.mkdir(EXPRESS_HOME, { recursive: true });
  await Deno.copyFile(join(peers, "express", "package.json"), join(EXPRESS_HOME, "package.json"));
  await Deno.writeTextFile(join(EXPRESS_HOME, "package-lock.json"), lock);
  const npm = await new Deno.Command("npm", {
    args: ["ci", "--no-audit", "--no-fund", "--loglevel=error"],
    cwd: EXPRESS_HOME,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (!npm.success) throw new Error(`npm ci of the Express peer failed in ${EXPRESS_HOME}`);
  return modules;
}
