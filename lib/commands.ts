/**
 * The one table of commands: each one's environment variables, the files it names on its command
 * line, whether it talks to the network, and its V8 heap settings. `main.ts` reads each command's
 * variables from here, the launcher (launch.ts) derives each process's permissions from it, and
 * the admin commands parse their options from it, so a new command, flag or setting is one edit.
 */

import { CONFIG_VARIABLES } from "./config.ts";

/** What `node:util` parseArgs takes for an option. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly default?: string | boolean;
}

/** One command as the launcher and `main.ts` see it. */
export interface CommandSpec {
  /** The environment variables it may read. */
  readonly variables: readonly string[];
  /** Its first positional argument is a file it reads. */
  readonly readsFile: boolean;
  /** The option naming a file it writes (its directory is writable), if any. */
  readonly writesOption: string | null;
  /** Its options, as parseArgs takes them (`help` included where it has one). */
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** It talks to the network beyond a database (the service, Okta's API). */
  readonly network: boolean;
  /** `--v8-flags` for its process (measured: docs/performance.md), or `null`. */
  readonly v8Flags: string | null;
}

const HELP: OptionSpec = { type: "boolean", short: "h" };
const DATABASE = ["DB_PATH", "DATABASE_URL"] as const;

/** The variables of each command, kept literal for the commands' typed environments. */
export const SEED_VARIABLES = [...DATABASE, "PERSON_ATTRIBUTE"] as const;
export const SYNC_VARIABLES = [
  "OKTA_ORG_URL",
  "OKTA_API_TOKEN",
  ...DATABASE,
  "PERSON_ATTRIBUTE",
] as const;
export const REGISTER_VARIABLES = [
  "OKTA_ORG_URL",
  "OKTA_API_TOKEN",
  "HOOK_AUTH_SECRET",
  "HOOK_AUTH_HEADER",
  "HOOK_OAUTH_ISSUER",
  "HOOK_OAUTH_SCOPES",
  "HOOK_OAUTH_CLIENT_IDS",
  "HOOK_OAUTH_CLIENT_SECRET",
] as const;
export const PREVIEW_VARIABLES = [
  ...DATABASE,
  "OWNER_ATTRIBUTE",
  "MIDDLE_NAME_ATTRIBUTE",
  "RESOLUTION_STRATEGIES",
  "PERSON_ATTRIBUTE",
  "PERSON_MATCH",
] as const;
export const AUDIT_VARIABLES = [...DATABASE, "SUDO_USER", "USER"];

/** `deno task preview`'s options. */
export const PREVIEW_OPTIONS = {
  "id-column": { type: "string", default: "employeeId" },
  "login-column": { type: "string", default: "userName" },
  "login-template": { type: "string" },
  "middle-name-column": { type: "string", default: "middleName" },
  "app-id": { type: "string" },
  out: { type: "string" },
  format: { type: "string" },
  help: HELP,
} as const satisfies Record<string, OptionSpec>;

const NONE = { readsFile: false, writesOption: null, network: false, v8Flags: null } as const;

/** Every command, by the name `main.ts` and the tasks give it. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  serve: {
    ...NONE,
    variables: CONFIG_VARIABLES,
    options: { help: HELP },
    network: true,
    v8Flags: "--max-semi-space-size=2",
  },
  seed: {
    ...NONE,
    variables: SEED_VARIABLES,
    options: { column: { type: "string" }, help: HELP },
    readsFile: true,
    v8Flags: "--max-old-space-size=96,--max-semi-space-size=2",
  },
  sync: { ...NONE, variables: SYNC_VARIABLES, options: {}, network: true },
  register: { ...NONE, variables: REGISTER_VARIABLES, options: {}, network: true },
  preview: {
    ...NONE,
    variables: PREVIEW_VARIABLES,
    options: PREVIEW_OPTIONS,
    readsFile: true,
    writesOption: "out",
    // Young objects of 100k rows otherwise grow V8's semi-spaces to 16 MiB each: 100k rows
    // against 1M logins peaked at 405-415 MiB without, 343 MiB with (docs/performance.md).
    v8Flags: "--max-semi-space-size=2",
  },
  audit: { ...NONE, variables: AUDIT_VARIABLES, options: {} },
};

/** The environment variables `command` may read (none for an unknown one). */
export function commandVariables(command: string): readonly string[] {
  return COMMANDS[command]?.variables ?? [];
}
