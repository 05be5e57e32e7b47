/**
 * `deno task register --url https://...`: argument parsing, configuration and reporting around
 * {@link registerHook}.
 */

import { REGISTER_VARIABLES } from "../commands.ts";
import { parseArgs } from "node:util";
import { ConfigError, parseConfig } from "../config.ts";
import { messageOf } from "../log.ts";
import { OktaClient, type OktaEnv, parseOktaEnv } from "../okta/okta_api.ts";
import {
  checkHookName,
  checkHookUri,
  DEFAULT_HOOK_NAME,
  type HookRegistration,
  IMPORT_HOOK_TYPE,
  registerHook,
} from "../okta/register_hook.ts";
import { type CommandIo, EXIT_USAGE, PROCESS_IO, usageError, waitLine } from "./cli.ts";

/** Raw values as read from the environment. */
export type RegisterEnv =
  & OktaEnv
  & {
    readonly [name in Exclude<typeof REGISTER_VARIABLES[number], keyof OktaEnv>]?: string;
  };

const USAGE = `Usage: deno task register --url https://PUBLIC-HOST/hooks/import [--name NAME]
                          [--auth header|oauth] [OAuth options]

Creates the user import inline hook (${IMPORT_HOOK_TYPE}) in Okta, or updates the one with the
same name, pointing it at this service. Safe to run again, e.g. after rotating the secret,
moving the service or switching to OAuth 2.0.

Options:
  --url URL            The service's public https:// URL of the import endpoint (required)
  --name NAME          The hook's name in Okta (default "${DEFAULT_HOOK_NAME}")
  --auth header|oauth  How Okta authenticates: the header secret (HTTP channel), or an OAuth 2.0
                       access token (OAUTH channel); default oauth when HOOK_OAUTH_ISSUER is set
  -h, --help           Show this help

OAuth options (--auth oauth):
  --client-id ID       The API Services app Okta uses (default: the first HOOK_OAUTH_CLIENT_IDS)
  --token-url URL      Its token endpoint (default HOOK_OAUTH_ISSUER/v1/token, as Okta's custom
                       authorization servers have it)
  --scope SCOPE        The scope Okta asks for (default HOOK_OAUTH_SCOPES)
  --hook-key-id ID     Authenticate with private_key_jwt and this Okta hook key; without it,
                       client_secret_post with HOOK_OAUTH_CLIENT_SECRET

Environment:
  OKTA_ORG_URL              The org, e.g. https://acme.okta.com (https:// required)
  OKTA_API_TOKEN            An API token of an admin who can manage inline hooks
  HOOK_AUTH_SECRET          The secret the service accepts (the first one if several are listed)
  HOOK_AUTH_HEADER          The header Okta sends it in (default Authorization)
  HOOK_OAUTH_ISSUER, HOOK_OAUTH_SCOPES, HOOK_OAUTH_CLIENT_IDS
                            As the service has them: the defaults of the OAuth options
  HOOK_OAUTH_CLIENT_SECRET  The API Services app's client secret (client_secret_post)
Exit codes: 0 created or updated, 1 failure (Okta refused, a setting is wrong), 2 bad arguments.`;

/** Runs the register command; resolves to the exit code (2: bad arguments, 1: failure). */
export async function runRegister(
  args: string[],
  env: RegisterEnv,
  io: CommandIo = PROCESS_IO,
): Promise<number> {
  const { out, err } = io;
  let uri: string;
  let name: string;
  let options: OAuthOptions;
  try {
    const { values } = parseArgs({
      args,
      options: {
        help: { type: "boolean", short: "h" },
        url: { type: "string" },
        name: { type: "string", default: DEFAULT_HOOK_NAME },
        auth: { type: "string" },
        "client-id": { type: "string" },
        "token-url": { type: "string" },
        scope: { type: "string" },
        "hook-key-id": { type: "string" },
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
    const auth = values.auth ?? (blank(env.HOOK_OAUTH_ISSUER) ? "header" : "oauth");
    if (auth !== "header" && auth !== "oauth") {
      throw new TypeError(`Option --auth must be header or oauth, got "${auth}"`);
    }
    options = {
      oauth: auth === "oauth",
      clientId: values["client-id"],
      tokenUrl: values["token-url"],
      scope: values.scope,
      hookKeyId: values["hook-key-id"],
    };
    if (!options.oauth) {
      const given = ["client-id", "token-url", "scope", "hook-key-id"].find((o) =>
        values[o as keyof typeof values] !== undefined
      );
      if (given !== undefined) throw new TypeError(`Option --${given} goes with --auth oauth`);
    }
  } catch (error) {
    err(usageError(error));
    return EXIT_USAGE;
  }

  let target;
  let auth: HookRegistration["auth"];
  try {
    target = parseOktaEnv(env);
    auth = options.oauth ? oauthAuth(env, options) : headerAuth(env);
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
    const hook = await registerHook(client, { name, uri, auth });
    const activated = hook.activated ? ", activated" : "";
    const how = auth.type === "HEADER"
      ? `with the secret in the ${auth.header} header`
      : `with an OAuth 2.0 access token from ${auth.tokenUrl} (client ${auth.clientId}, ` +
        `scope ${auth.scope}, ${auth.authType})`;
    out(
      `${hook.action === "created" ? "Created" : "Updated"} inline hook "${hook.name}" in ` +
        `${target.orgUrl.origin}: id ${hook.id}, ${hook.status}${activated}; Okta calls ${uri} ` +
        how,
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

interface OAuthOptions {
  readonly oauth: boolean;
  readonly clientId: string | undefined;
  readonly tokenUrl: string | undefined;
  readonly scope: string | undefined;
  readonly hookKeyId: string | undefined;
}

function headerAuth(env: RegisterEnv): HookRegistration["auth"] {
  const auth = parseConfig({
    ...(env.HOOK_AUTH_SECRET === undefined ? {} : { HOOK_AUTH_SECRET: env.HOOK_AUTH_SECRET }),
    ...(env.HOOK_AUTH_HEADER === undefined ? {} : { HOOK_AUTH_HEADER: env.HOOK_AUTH_HEADER }),
  });
  // During a rotation the service accepts several; Okta gets the first (the current) one.
  const first = auth.authSecrets?.[0];
  if (first === undefined) {
    throw new ConfigError(
      "HOOK_AUTH_SECRET",
      "Cannot read HOOK_AUTH_SECRET: it must be set to the secret the service accepts",
    );
  }
  return { type: "HEADER", header: auth.authHeader, secret: first };
}

/**
 * The OAUTH channel from the options, defaulting to the service's own settings; refuses what
 * would make the service refuse Okta's tokens (another client, a scope it does not require).
 */
function oauthAuth(env: RegisterEnv, options: OAuthOptions): HookRegistration["auth"] {
  const issuer = blank(env.HOOK_OAUTH_ISSUER) ? undefined : env.HOOK_OAUTH_ISSUER!.trim();
  const clientIds = words(env.HOOK_OAUTH_CLIENT_IDS);
  const scopes = words(env.HOOK_OAUTH_SCOPES);
  const clientId = options.clientId ?? clientIds[0];
  if (clientId === undefined || clientId.trim() === "") {
    throw new ConfigError(
      "HOOK_OAUTH_CLIENT_IDS",
      "Cannot read HOOK_OAUTH_CLIENT_IDS: give --client-id or set it to the API Services app's client id",
    );
  }
  if (clientIds.length > 0 && !clientIds.includes(clientId)) {
    throw new ConfigError(
      "HOOK_OAUTH_CLIENT_IDS",
      `Cannot read HOOK_OAUTH_CLIENT_IDS: it does not list ${clientId}, so the service would refuse its tokens`,
    );
  }
  const tokenUrl = options.tokenUrl ??
    (issuer === undefined ? undefined : `${issuer.replace(/\/$/, "")}/v1/token`);
  if (tokenUrl === undefined) {
    throw new ConfigError(
      "HOOK_OAUTH_ISSUER",
      "Cannot read HOOK_OAUTH_ISSUER: give --token-url or set it to the authorization server's issuer",
    );
  }
  const badTokenUrl = checkHookUri(tokenUrl);
  if (badTokenUrl !== null) {
    throw new ConfigError("--token-url", `Cannot use --token-url "${tokenUrl}": ${badTokenUrl}`);
  }
  const scope = options.scope ?? scopes.join(" ");
  if (scope.trim() === "") {
    throw new ConfigError(
      "HOOK_OAUTH_SCOPES",
      "Cannot read HOOK_OAUTH_SCOPES: give --scope or set it to the custom scope the hook uses",
    );
  }
  const asked = words(scope);
  const missing = scopes.filter((s) => !asked.includes(s));
  if (missing.length > 0) {
    throw new ConfigError(
      "HOOK_OAUTH_SCOPES",
      `Cannot read HOOK_OAUTH_SCOPES: the service requires ${
        missing.join(" ")
      }, which --scope leaves out`,
    );
  }
  const base = { type: "OAUTH", clientId, tokenUrl, scope: asked.join(" ") } as const;
  if (options.hookKeyId !== undefined) {
    return { ...base, authType: "private_key_jwt", hookKeyId: options.hookKeyId };
  }
  const secret = env.HOOK_OAUTH_CLIENT_SECRET?.trim() ?? "";
  if (secret === "") {
    throw new ConfigError(
      "HOOK_OAUTH_CLIENT_SECRET",
      "Cannot read HOOK_OAUTH_CLIENT_SECRET: client_secret_post needs the app's client secret " +
        "(or give --hook-key-id for private_key_jwt)",
    );
  }
  return { ...base, authType: "client_secret_post", clientSecret: secret };
}

function words(text: string | undefined): string[] {
  return (text ?? "").split(/[\s,]+/).filter((w) => w !== "");
}

function blank(text: string | undefined): boolean {
  return text === undefined || text.trim() === "";
}
