/**
 * Entry point: `serve` (the default) runs the import hook service; `seed FILE.csv` loads existing
 * Okta logins into the login index; `sync` loads them from Okta's Users API; `register` creates
 * the inline hook in Okta. Only wiring lives here.
 */

import { versionLine } from "./lib/version.ts";
import { CONFIG_VARIABLES, ConfigError, DATA_DIR, parseConfig } from "./lib/config.ts";
import { createLogger, messageOf } from "./lib/log.ts";
import { CONSOLE, EXIT_USAGE, usageError } from "./lib/admin/cli.ts";
import { startService } from "./lib/hook/service.ts";
import { StartError } from "./lib/hook/start_errors.ts";
import { parseArgs } from "node:util";
import { runSeed } from "./lib/admin/seed_command.ts";
import { runSync } from "./lib/admin/sync_command.ts";
import { runRegister } from "./lib/admin/register_command.ts";
import { runPreview } from "./lib/admin/preview_command.ts";
import { runAudit } from "./lib/admin/audit_command.ts";
import {
  AUDIT_VARIABLES,
  COMMANDS,
  PREVIEW_VARIABLES,
  REGISTER_VARIABLES,
  SEED_VARIABLES,
  SYNC_VARIABLES,
} from "./lib/commands.ts";

/** Subcommands: each reads only the environment variables lib/commands.ts gives it. */
export const RUNNERS: Record<string, (args: string[]) => Promise<number>> = {
  serve: (args) => serve(args),
  seed: (args) => runSeed(args, readEnv(SEED_VARIABLES)),
  sync: (args) => runSync(args, readEnv(SYNC_VARIABLES)),
  register: (args) => runRegister(args, readEnv(REGISTER_VARIABLES)),
  preview: (args) => runPreview(args, readEnv(PREVIEW_VARIABLES)),
  audit: (args) => runAudit(args, readEnv(AUDIT_VARIABLES)),
};

/** Runs the command named by `args[0]` (default `serve`); resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [command = "serve", ...rest] = args;
  const run = RUNNERS[command];
  // Every task answers --version before anything else, whatever else it takes.
  if (run !== undefined && rest[0] === "--version" || command === "--version") {
    CONSOLE.out(versionLine());
    return 0;
  }
  if (run === undefined) {
    CONSOLE.err(`Unknown command "${command}": use one of ${Object.keys(RUNNERS).join(", ")}`);
    return 2;
  }
  return await run(rest);
}

/** Read only to say it is ignored (containers set it): BIND_ADDRESS is the bind address. */
const IGNORED_SETTING = "HOSTNAME";

/** Every setting, from the one table (lib/commands.ts), wrapped at 96 columns. */
function settingsList(names: readonly string[]): string {
  const lines: string[] = [];
  let line = "";
  for (const name of names) {
    const next = line === "" ? name : `${line}, ${name}`;
    if (next.length > 94) {
      lines.push(`${line},`);
      line = name;
    } else line = next;
  }
  return [...lines, `${line}.`].join("\n");
}

const SERVE_USAGE = `Usage: deno task start

Serves the import hook over HTTPS. Every setting is an environment variable (see
docs/configuration.md):
${settingsList(COMMANDS.serve!.variables.filter((name) => name !== IGNORED_SETTING))}
Signals: SIGTERM or SIGINT stop it (requests in flight are answered first); SIGHUP reloads the
certificate.
Exit codes: 0 stopped, 1 cannot start (one line names the setting), 2 bad arguments.`;

async function serve(args: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args,
      options: { help: { type: "boolean", short: "h" } },
      allowPositionals: false,
    });
    if (values.help) {
      CONSOLE.out(SERVE_USAGE);
      return 0;
    }
  } catch (error) {
    CONSOLE.err(
      `${usageError(error)}: start takes no arguments; settings are environment variables`,
    );
    return EXIT_USAGE;
  }
  const log = createLogger();
  // A start that fails says so twice: one structured line in the log, one line for a person.
  const cannotStart = (error: unknown, setting: string) => {
    log.error("Cannot start", error, { setting });
    CONSOLE.err(`Cannot start: ${messageOf(error)}`);
    return 1;
  };
  let config;
  try {
    config = parseConfig(readEnv(CONFIG_VARIABLES));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return cannotStart(error, error.setting);
  }
  // From here on, LOG_LEVEL says what is written (errors always are).
  const serviceLog = createLogger(undefined, undefined, config.logLevel);
  let service;
  try {
    service = await startService(config, { dataDir: DATA_DIR, log: serviceLog });
  } catch (error) {
    return cannotStart(error, error instanceof StartError ? error.setting : "unknown");
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    serviceLog.info("Stopping: finishing requests in flight");
    service.stop();
  };
  // Certificate renewal hooks send HUP: load the new pair, keep serving.
  const reload = () => void service.reloadCertificate();
  // The launcher passes signals on; if it is gone (killed), nothing would: stop too.
  const parent = Deno.ppid;
  const orphaned = setInterval(() => Deno.ppid !== parent && stop(), 1000);
  Deno.unrefTimer(orphaned);
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGHUP", reload);
  await service.finished;
  clearInterval(orphaned);
  Deno.removeSignalListener("SIGTERM", stop);
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGHUP", reload);
  return 0;
}

/** Our variables, read by name (reading all of the environment needs wider permissions). */
function readEnv<K extends string>(names: readonly K[]): Partial<Record<K, string>> {
  const env: Partial<Record<K, string>> = {};
  for (const name of names) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
