/**
 * The launcher behind every `deno task` that runs the service or an admin command. Deno's
 * permission flags are fixed when a process starts, and a deployment names its own paths (a
 * data volume, a systemd StateDirectory, certificates from the host's store), so the flags are
 * derived here from the settings and the real process is run with exactly those: it may read
 * and write what its configuration names (the database's directory, for `-wal` and `-shm`;
 * `data/`), read its certificate and key, the code and the files an admin names, and nothing
 * else. Signals are passed on; the exit code is the real process's. When a process that started
 * the task goes (`kill npx`), the real process is sent SIGTERM.
 *
 * `deno run ... lib/launch.ts --print serve` prints the command line instead of running it
 * (tests and benchmarks run the real process themselves, to measure and kill it).
 */

import { dirname, isAbsolute, join, resolve } from "node:path";
import { constants } from "node:os";
import { DEFAULT_DB_PATH } from "./config.ts";
import { COMMANDS, type CommandSpec, commandVariables } from "./commands.ts";
import { watchLaunchChain } from "./ancestors.ts";

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

/** The environment variables the launcher passes to `command`. */
export { commandVariables } from "./commands.ts";

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
  const spec = COMMANDS[command];
  const variables = commandVariables(command);
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
  const { file, out } = fileArguments(spec, args);
  const realArgs = [...args];
  if (file !== null) {
    reads.push(granted(file));
    realArgs[realArgs.indexOf(file)] = path(file);
  }
  if (out !== null) {
    // Read too: the command checks the directory exists before any work.
    writes.push(dirname(granted(out.value)));
    reads.push(dirname(granted(out.value)));
    realArgs[out.index] = realArgs[out.index]!.replace(out.value, path(out.value));
  }
  // With PostgreSQL: its host, and libpq's PG* variables the driver reads (PGPASSWORD, ...).
  const database = variables.includes("DATABASE_URL") ? postgresHost(env.DATABASE_URL) : null;
  const net = spec?.network ? ["--allow-net"] : database ? [`--allow-net=${database}`] : [];
  const flags = [
    ...(spec?.v8Flags ? [`--v8-flags=${spec.v8Flags}`] : []),
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

/** The file a command reads (its first positional) and the file it writes (`--out`). */
function fileArguments(
  spec: CommandSpec | undefined,
  args: readonly string[],
): { file: string | null; out: { value: string; index: number } | null } {
  if (spec === undefined || !spec.readsFile) return { file: null, out: null };
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
    if (spec.options[name]?.type !== "string") continue;
    const value = inline ?? args[i + 1];
    const index = inline === undefined ? i + 1 : i;
    if (inline === undefined) i++;
    if (name === spec.writesOption && value !== undefined && value !== "-") out = { value, index };
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
  for (const name of commandVariables(command)) env[name] = Deno.env.get(name);
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
  // `npx` passes no signal on to what it runs: when a process that started this one goes, the
  // service must go too, or it serves on holding the port.
  const stopWatching = await watchLaunchChain((gone) => {
    const line = `launcher: the process that started this task (pid ${gone.pid}) has gone; ` +
      "stopping the service\n";
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(line));
    } catch { /* its terminal may have gone with it */ }
    try {
      child.kill("SIGTERM");
    } catch { /* it has exited */ }
  });
  const status = await child.status;
  stopWatching();
  Deno.exit(status.signal === null ? status.code : 128 + signalNumber(status.signal));
}

/** The signal's number, as a shell reports a process it ended (128 + n). */
function signalNumber(signal: Deno.Signal): number {
  return (constants.signals as Partial<Record<string, number>>)[signal] ?? 1;
}
