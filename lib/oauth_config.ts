/** The OAuth 2.0 settings: which bearer tokens the hook accepts instead of the header secret. */

import { ConfigError, optional, urlSetting } from "./config_error.ts";

/** The variables read here. */
type OAuthEnv = Readonly<
  Partial<
    Record<
      | "HOOK_OAUTH_ISSUER"
      | "HOOK_OAUTH_AUDIENCE"
      | "HOOK_OAUTH_SCOPES"
      | "HOOK_OAUTH_CLIENT_IDS"
      | "HOOK_OAUTH_ACCEPT_SECRET"
      | "HOOK_AUTH_SECRET",
      string
    >
  >
>;

/** How Okta's OAuth 2.0 access tokens are checked. */
export interface OAuthConfig {
  /** The authorization server's issuer, compared exactly with `iss`. */
  readonly issuer: string;
  /** The audience the tokens must carry in `aud`. */
  readonly audience: string;
  /** Scopes every token must carry (in `scp` or `scope`); none when empty. */
  readonly scopes: readonly string[];
  /** Allowed client ids (`cid` or `client_id`); any when empty. */
  readonly clientIds: readonly string[];
  /** Whether the header secret is accepted beside tokens, while switching over. */
  readonly acceptSecret: boolean;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/;
const CLIENT_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * The OAuth 2.0 settings: `null` without `HOOK_OAUTH_ISSUER` (its companions are then refused);
 * the issuer https only (http on loopback, for tests), exactly, with its audience.
 */
export function parseOAuth(env: OAuthEnv): OAuthConfig | null {
  const issuer = optional(env, "HOOK_OAUTH_ISSUER");
  if (issuer === undefined) {
    for (
      const name of ["HOOK_OAUTH_AUDIENCE", "HOOK_OAUTH_SCOPES", "HOOK_OAUTH_CLIENT_IDS"] as const
    ) {
      if (optional(env, name) !== undefined) {
        throw new ConfigError(name, `Cannot read ${name}: it needs HOOK_OAUTH_ISSUER to be set`);
      }
    }
    return null;
  }
  const url = urlSetting("HOOK_OAUTH_ISSUER", issuer, `"${issuer}" is not a URL`);
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new ConfigError(
      "HOOK_OAUTH_ISSUER",
      `Cannot read HOOK_OAUTH_ISSUER: "${issuer}" does not start with https://`,
    );
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw new ConfigError(
      "HOOK_OAUTH_ISSUER",
      `Cannot read HOOK_OAUTH_ISSUER: "${issuer}" must be the issuer exactly, without credentials, query or fragment`,
    );
  }
  const audience = optional(env, "HOOK_OAUTH_AUDIENCE");
  if (audience === undefined) {
    throw new ConfigError(
      "HOOK_OAUTH_AUDIENCE",
      "Cannot read HOOK_OAUTH_AUDIENCE: it must be set with HOOK_OAUTH_ISSUER (the default server's is api://default)",
    );
  }
  const list = (name: keyof OAuthEnv, pattern: RegExp, what: string): string[] => {
    const values = (optional(env, name) ?? "").split(/[\s,]+/).filter((v) => v !== "");
    for (const value of values) {
      if (!pattern.test(value)) {
        throw new ConfigError(name, `Cannot read ${name}: "${value}" is not ${what}`);
      }
    }
    return values;
  };
  const accept = optional(env, "HOOK_OAUTH_ACCEPT_SECRET")?.toLowerCase() ?? "no";
  if (accept !== "yes" && accept !== "no") {
    throw new ConfigError(
      "HOOK_OAUTH_ACCEPT_SECRET",
      `Cannot read HOOK_OAUTH_ACCEPT_SECRET: "${accept}" is not yes or no`,
    );
  }
  const secretSet = optional(env, "HOOK_AUTH_SECRET") !== undefined;
  if (accept === "yes" && !secretSet) {
    throw new ConfigError(
      "HOOK_OAUTH_ACCEPT_SECRET",
      "Cannot read HOOK_OAUTH_ACCEPT_SECRET: yes accepts the header secret too, but HOOK_AUTH_SECRET is not set",
    );
  }
  if (accept === "no" && secretSet) {
    throw new ConfigError(
      "HOOK_AUTH_SECRET",
      "Cannot read HOOK_AUTH_SECRET: with HOOK_OAUTH_ISSUER set only tokens are accepted; " +
        "set HOOK_OAUTH_ACCEPT_SECRET=yes to accept both while switching over, or unset it",
    );
  }
  return {
    issuer,
    audience,
    scopes: list("HOOK_OAUTH_SCOPES", SCOPE_TOKEN, "a scope"),
    clientIds: list("HOOK_OAUTH_CLIENT_IDS", CLIENT_ID, "a client id"),
    acceptSecret: accept === "yes",
  };
}
