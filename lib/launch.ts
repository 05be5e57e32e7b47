/**
 * The launcher behind every `deno task` that runs the service or an admin command. Deno's
 * permission flags are fixed when a process starts, and a deployment names its own paths (a
 * data volume, a systemd StateDirectory, certificates from the host's store), so the flags are
 * derived here from the settings and the real process is run with exactly those: it may read
 * and write what its configuration names (the database's directory, for `-wal` and `-shm`;
 * `data/`), read its certificate and key, the code and the files an admin names, and nothing
 * else. Signals are passed on; the exit code is the real process's.
 *
 * `deno run ... lib/launch.ts --print serve` prints the command line instead of running it
 * (tests and benchmarks run the real process themselves, to measure and kill it).
 */

import { dirname, isAbsolute, join, resolve } from "node:path";
import { CONFIG_VARIABLES, DEFAULT_DB_PATH } from "./config.ts";

/** The command line of the real process, and the settings it is given. */
export interface Launch {
  /** Arguments to `deno`. */
  readonly args: string[];
  /** Settings whose relative paths were made absolute (the process runs in the project). */
  readonly env: Record<string, string>;
}

/** Where paths are resolved: the admin's directory, and the project's. */
export interface Places {
  /** The directory `deno task` was started in (`INIT_CWD`): relative settings mean it. */
  readonly cwd: string;
  /** The project directory: `data/`, `lib/` and `main.ts` are there. */
  readonly project: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Each command's environment variables: what it may read. */
const VARIABLES: Record<string, readonly string[]> = {
  serve: CONFIG_VARIABLES,
  seed: ["DB_PATH", "DATABASE_URL"],
  sync: ["OKTA_ORG_URL", "OKTA_API_TOKEN", "DB_PATH", "DATABASE_URL"],
  register: [
    "OKTA_ORG_URL",
    "OKTA_API_TOKEN",
    "HOOK_AUTH_SECRET",
    "HOOK_AUTH_HEADER",
    "HOOK_OAUTH_ISSUER",
    "HOOK_OAUTH_SCOPES",
    "HOOK_OAUTH_CLIENT_IDS",
    "HOOK_OAUTH_CLIENT_SECRET",
  ],
  preview: [
    "DB_PATH",
    "DATABASE_URL",
    "OWNER_ATTRIBUTE",
    "MIDDLE_NAME_ATTRIBUTE",
    "RESOLUTION_STRATEGIES",
  ],
  audit: ["DB_PATH", "DATABASE_URL"],
};

/** V8 heap settings per command (measured: see docs/performance.md). */
const V8_FLAGS: Record<string, string> = {
  serve: "--max-semi-space-size=2",
  seed: "--max-old-space-size=96,--max-semi-space-size=2",
};

/** The commands that talk to the network. */
const NETWORK = new Set(["serve", "sync", "register"]);

/** Options of `preview` that take a value (the rest of its arguments are flags or the file). */
const PREVIEW_VALUES = [
  "id-column",
  "login-column",
  "middle-name-column",
  "app-id",
  "out",
  "format",
  "login-template",
];

/** The environment variables the launcher passes to `command`. */
export function commandVariables(command: string): readonly string[] {
  return VARIABLES[command] ?? [];
}

/** `host:port` of a `postgres://` URL (5432 unless it says), or `null` when unset or unreadable. */
function postgresHost(text: string | undefined): string | null {
  if (text === undefined || text.trim() === "") return null;
  try {
    const url = new URL(text.trim());
    return url.hostname === "" ? null : `${url.hostname}:${url.port || "5432"}`;
  } catch {
    return null; // the command itself says what is wrong with it
  }
}

/**
 * The real process's command line for `command args`, with its permissions derived from `env`
 * (an unknown command gets none, and the real process says it is unknown).
 */
export function launch(command: string, args: readonly string[], env: Env, places: Places): Launch {
  const variables = VARIABLES[command] ?? [];
  // The real process runs in the project: a relative path from elsewhere is made absolute (one
  // typed in the project stays as typed, and so do the messages that name it).
  const here = resolve(places.cwd) === resolve(places.project);
  const path = (value: string) => isAbsolute(value) || here ? value : resolve(places.cwd, value);
  const granted = (value: string) => isAbsolute(value) ? value : resolve(places.cwd, value);
  const settings: Record<string, string> = {};
  for (const name of ["DB_PATH", "TLS_CERT_FILE", "TLS_KEY_FILE"]) {
    const value = env[name]?.trim();
    if (variables.includes(name) && value) settings[name] = path(value);
  }
  const data = join(places.project, "data");
  const dbPath = granted(settings.DB_PATH ?? join(places.project, DEFAULT_DB_PATH));
  const reads = [data, dirname(dbPath)];
  const writes = [data, dirname(dbPath)];
  if (command === "serve") {
    reads.push(join(places.project, "lib")); // the database worker's code
    if (settings.TLS_CERT_FILE) reads.push(granted(settings.TLS_CERT_FILE));
    if (settings.TLS_KEY_FILE) reads.push(granted(settings.TLS_KEY_FILE));
  }
  if (command === "register") reads.length = writes.length = 0;
  const { file, out } = fileArguments(command, args);
  const realArgs = [...args];
  if (file !== null) {
    reads.push(granted(file));
    realArgs[realArgs.indexOf(file)] = path(file);
  }
  if (out !== null) {
    writes.push(dirname(granted(out.value)));
    realArgs[out.index] = realArgs[out.index]!.replace(out.value, path(out.value));
  }
  // With PostgreSQL: its host, and libpq's PG* variables the driver reads (PGPASSWORD, ...).
  const database = variables.includes("DATABASE_URL") ? postgresHost(env.DATABASE_URL) : null;
  const net = NETWORK.has(command) ? ["--allow-net"] : database ? [`--allow-net=${database}`] : [];
  const flags = [
    ...(V8_FLAGS[command] ? [`--v8-flags=${V8_FLAGS[command]}`] : []),
    ...net,
    ...(reads.length > 0 ? [`--allow-read=${unique(reads).join(",")}`] : []),
    ...(writes.length > 0 ? [`--allow-write=${unique(writes).join(",")}`] : []),
    ...(variables.length > 0
      ? [`--allow-env=${[...variables, ...(database || command === "serve" ? ["PG*"] : [])]}`]
      : []),
    ...(command === "serve" ? ["--allow-sys=statfs"] : []),
  ];
  return {
    args: ["run", ...flags, join(places.project, "main.ts"), command, ...realArgs],
    env: settings,
  };
}

/** The file an admin command reads (seed, preview) and the file preview writes (`--out`). */
function fileArguments(
  command: string,
  args: readonly string[],
): { file: string | null; out: { value: string; index: number } | null } {
  if (command !== "seed" && command !== "preview") return { file: null, out: null };
  let file: string | null = null;
  let out: { value: string; index: number } | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") continue;
    if (!arg.startsWith("-")) {
      file ??= arg;
      continue;
    }
    const [name, inline] = arg.replace(/^--?/, "").split("=", 2) as [string, string | undefined];
    if (command !== "preview" || !PREVIEW_VALUES.includes(name)) continue;
    const value = inline ?? args[i + 1];
    const index = inline === undefined ? i + 1 : i;
    if (inline === undefined) i++;
    if (name === "out" && value !== undefined && value !== "-") out = { value, index };
  }
  return { file, out };
}

function unique(paths: readonly string[]): string[] {
  return [...new Set(paths)];
}

if (import.meta.main) {
  const print = Deno.args[0] === "--print";
  const [command = "serve", ...args] = print ? Deno.args.slice(1) : Deno.args;
  const project = dirname(dirname(new URL(import.meta.url).pathname));
  const places = { cwd: Deno.env.get("INIT_CWD") ?? Deno.cwd(), project };
  const env: Record<string, string | undefined> = {};
  for (const name of VARIABLES[command] ?? []) env[name] = Deno.env.get(name);
  const line = launch(command, args, env, places);
  if (print) {
    Deno.stdout.writeSync(new TextEncoder().encode(`${JSON.stringify(line)}\n`));
    Deno.exit(0);
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: line.args,
    cwd: project,
    env: line.env,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    Deno.addSignalListener(signal, () => {
      try {
        child.kill(signal);
      } catch { /* it has exited */ }
    });
  }
  const status = await child.status;
  Deno.exit(status.signal === null ? status.code : 128 + signalNumber(status.signal));
}

function signalNumber(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGKILL: 9,
    SIGTERM: 15,
  };
  return numbers[signal] ?? 1;
}
