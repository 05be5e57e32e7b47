// deno-lint-ignore-file no-console -- a command-line entry point talks to its terminal
/**
 * Entry point: `serve` (the default) runs the import hook service; `seed FILE.csv` loads existing
 * Okta logins into the login index. Only wiring lives here.
 */

import { CONFIG_VARIABLES, ConfigError, DATA_DIR, parseConfig, type RawEnv } from "./lib/config.ts";
import { createLogger } from "./lib/log.ts";
import { startService } from "./lib/service.ts";
import { runSeed } from "./lib/seed_command.ts";

/** Runs the command named by `args[0]`; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [command = "serve", ...rest] = args;
  if (command === "seed") return await runSeed(rest, readEnv(["DB_PATH"]));
  if (command !== "serve") {
    console.error(`Unknown command "${command}": use serve or seed`);
    return 2;
  }
  return await serve();
}

async function serve(): Promise<number> {
  const log = createLogger();
  let config;
  try {
    config = parseConfig(readEnv(CONFIG_VARIABLES));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return 1;
  }
  let service;
  try {
    service = await startService(config, { dataDir: DATA_DIR, log });
  } catch (error) {
    console.error(`Cannot start: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    log.info("Stopping: finishing requests in flight");
    service.stop();
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  await service.finished;
  Deno.removeSignalListener("SIGTERM", stop);
  Deno.removeSignalListener("SIGINT", stop);
  return 0;
}

/** Our variables, read by name (reading all of the environment needs wider permissions). */
function readEnv(names: readonly (keyof RawEnv)[]): RawEnv {
  const env: RawEnv = {};
  for (const name of names) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
