/**
 * `deno task register --url https://...`: argument parsing, configuration and reporting around
 * {@link registerHook}.
 */

import { parseArgs } from "node:util";
import { ConfigError, parseConfig } from "../config.ts";
import { messageOf } from "../log.ts";
import { OktaClient, type OktaEnv, parseOktaEnv } from "../okta/okta_api.ts";
import {
  checkHookName,
  checkHookUri,
  DEFAULT_HOOK_NAME,
  IMPORT_HOOK_TYPE,
  registerHook,
} from "../okta/register_hook.ts";
import { type CommandIo, EXIT_USAGE, PROCESS_IO, usageError, waitLine } from "./cli.ts";

/** The environment variables the register command reads. */
export const REGISTER_VARIABLES = [
  "OKTA_ORG_URL",
  "OKTA_API_TOKEN",
  "HOOK_AUTH_SECRET",
  "HOOK_AUTH_HEADER",
] as const;

/** Raw values as read from the environment. */
export type RegisterEnv = OktaEnv & {
  readonly HOOK_AUTH_SECRET?: string;
  readonly HOOK_AUTH_HEADER?: string;
};

const USAGE = `Usage: deno task register --url https://PUBLIC-HOST/hooks/import [--name NAME]

Creates the user import inline hook (${IMPORT_HOOK_TYPE}) in Okta, or updates the one with the
same name, pointing it at this service with the header secret. Safe to run again, e.g. after
rotating the secret or moving the service.

Options:
  --url URL    The service's public https:// URL of the import endpoint (required)
  --name NAME  The hook's name in Okta (default "${DEFAULT_HOOK_NAME}")
  -h, --help   Show this help

Environment:
  OKTA_ORG_URL       The org, e.g. https://acme.okta.com (https:// required)
  OKTA_API_TOKEN     An API token of an admin who can manage inline hooks
  HOOK_AUTH_SECRET   The secret the service accepts (the first one if several are listed)
  HOOK_AUTH_HEADER   The header Okta sends it in (default Authorization)`;

/** Runs the register command; resolves to the exit code (2: bad arguments, 1: failure). */
export async function runRegister(
  args: string[],
  env: RegisterEnv,
  io: CommandIo = PROCESS_IO,
): Promise<number> {
  const { out, err } = io;
  let uri: string;
  let name: string;
  try {
    const { values } = parseArgs({
      args,
      options: {
        help: { type: "boolean", short: "h" },
        url: { type: "string" },
        name: { type: "string", default: DEFAULT_HOOK_NAME },
      },
      allowPositionals: false,
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    if (values.url === undefined) throw new TypeError("Missing --url: the service's public URL");
    uri = values.url;
    const badUri = checkHookUri(uri);
    if (badUri !== null) throw new TypeError(`Cannot use --url "${uri}": ${badUri}`);
    name = values.name;
    const badName = checkHookName(name);
    if (badName !== null) throw new TypeError(`Cannot use --name: ${badName}`);
  } catch (error) {
    err(usageError(error));
    return EXIT_USAGE;
  }

  let target;
  let secret: string;
  let authHeader: string;
  try {
    target = parseOktaEnv(env);
    const auth = parseConfig({
      ...(env.HOOK_AUTH_SECRET === undefined ? {} : { HOOK_AUTH_SECRET: env.HOOK_AUTH_SECRET }),
      ...(env.HOOK_AUTH_HEADER === undefined ? {} : { HOOK_AUTH_HEADER: env.HOOK_AUTH_HEADER }),
    });
    // During a rotation the service accepts several; Okta gets the first (the current) one.
    const first = auth.authSecrets?.[0];
    if (first === undefined) {
      throw new ConfigError(
        "Cannot read HOOK_AUTH_SECRET: it must be set to the secret the service accepts",
      );
    }
    secret = first;
    authHeader = auth.authHeader;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err(error.message);
    return 1;
  }

  const client = new OktaClient(target, {
    onWait: (wait) => err(waitLine(wait)),
    ...io.okta,
  });
  try {
    const hook = await registerHook(client, { name, uri, authHeader, secret });
    const activated = hook.activated ? ", activated" : "";
    out(
      `${hook.action === "created" ? "Created" : "Updated"} inline hook "${hook.name}" in ` +
        `${target.orgUrl.origin}: id ${hook.id}, ${hook.status}${activated}; Okta calls ${uri} ` +
        `with the secret in the ${authHeader} header`,
    );
    out(
      `Next${
        hook.action === "created" ? "" : ", if not done yet"
      }: in the Okta Admin Console open the app that imports users, then Provisioning -> ` +
        `To Okta -> Inline Hooks, select "${hook.name}" and save`,
    );
    return 0;
  } catch (error) {
    err(
      `Cannot register the hook in ${target.orgUrl.origin}: ${messageOf(error)}`,
    );
    return 1;
  }
}
