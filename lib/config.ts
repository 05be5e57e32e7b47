/**
 * Service configuration: read once from environment variables at start, validated, then passed
 * down. Nothing else in the service reads the environment.
 */

import {
  ownerAttributes,
  type PersonMatchMode,
  personMatchMode,
  readPersonAttribute,
} from "./identity_settings.ts";
import { LOG_LEVELS, type LogLevel } from "./log.ts";
import { type AddressBlock, parseBlock } from "./addresses.ts";
import { ConfigError, optional, urlSetting } from "./config_error.ts";
import { type OAuthConfig, parseOAuth } from "./oauth_config.ts";

export { ConfigError } from "./config_error.ts";
export type { OAuthConfig } from "./oauth_config.ts";

/** Resolution strategies, in the order they may be tried. */
export const STRATEGY_NAMES = ["middle_name", "middle_initial", "numeric_suffix"] as const;
/** One way of building a new login for a user whose login is taken. */
export type StrategyName = typeof STRATEGY_NAMES[number];

export type { PersonMatchMode } from "./identity_settings.ts";

/** The environment variables the service reads; all optional. */
export const CONFIG_VARIABLES = [
  "PORT",
  "BIND_ADDRESS",
  // Read only to warn: Docker and Kubernetes set it to the container's name.
  "HOSTNAME",
  "HOOK_AUTH_SECRET",
  "HOOK_AUTH_HEADER",
  "TLS_CERT_FILE",
  "TLS_KEY_FILE",
  "DB_PATH",
  "OWNER_ATTRIBUTE",
  "MIDDLE_NAME_ATTRIBUTE",
  "RESOLUTION_STRATEGIES",
  "GROUP_COMMIT_MAX",
  "GROUP_COMMIT_WINDOW_MS",
  "MAX_CONNECTIONS",
  "HANDSHAKE_TIMEOUT_MS",
  "REQUEST_TIMEOUT_MS",
  "BODY_TIMEOUT_MS",
  "IDLE_TIMEOUT_MS",
  "DRAIN_TIMEOUT_MS",
  "TLS",
  "ALLOW_PLAIN_HTTP",
  "TRUSTED_PROXIES",
  "METRICS_PORT",
  "METRICS_HOSTNAME",
  "HOOK_OAUTH_ISSUER",
  "HOOK_OAUTH_AUDIENCE",
  "HOOK_OAUTH_SCOPES",
  "HOOK_OAUTH_CLIENT_IDS",
  "HOOK_OAUTH_ACCEPT_SECRET",
  "DATABASE_URL",
  "PERSON_ATTRIBUTE",
  "PERSON_MATCH",
  "LOG_LEVEL",
] as const;

/** Raw values as read from the environment. */
export type RawEnv = Partial<Record<typeof CONFIG_VARIABLES[number], string>>;

/** The resolved, validated configuration. */
export interface Config {
  /** TCP port to listen on; 0 lets the OS pick one (the "Listening" line names it). */
  readonly port: number;
  /** Interface to bind (`BIND_ADDRESS`). */
  readonly hostname: string;
  /**
   * `HOSTNAME` was set and `BIND_ADDRESS` was not: it is ignored (containers set it to their own
   * name), and the start says so.
   */
  readonly hostnameIgnored: boolean;
  /** Accepted values of the auth header; `null` means "use the generated development secret". */
  readonly authSecrets: readonly string[] | null;
  /** Name of the header Okta sends the secret in. */
  readonly authHeader: string;
  /** OAuth 2.0 bearer tokens (`HOOK_OAUTH_*`), or `null` for the header secret only. */
  readonly oauth: OAuthConfig | null;
  /** PEM certificate and key files; `null` means "use the generated development certificate". */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** `TLS=off`: plain HTTP, for a TLS-terminating proxy in front. */
  readonly plainHttp: boolean;
  /** The metrics listener (`METRICS_PORT`), or `null` for none. */
  readonly metrics: { readonly hostname: string; readonly port: number } | null;
  /** Proxies whose `X-Forwarded-For` is believed (addresses and CIDR blocks). */
  readonly trustedProxies: readonly AddressBlock[];
  /** SQLite database file (unused with `databaseUrl`). */
  readonly dbPath: string;
  /** PostgreSQL instead of SQLite (`DATABASE_URL`), or `null`. */
  readonly databaseUrl: string | null;
  /** App user profile attribute holding the user's unique id in the source app. */
  /**
   * App user profile attributes that may hold the user's unique id in the source, in order: the
   * first one a request carries is the owner's id.
   */
  readonly ownerAttributes: readonly string[];
  /** App user profile attribute holding the middle name. */
  readonly middleNameAttribute: string;
  /** Okta user profile attribute identifying a person across accounts, or `null`. */
  readonly personAttribute: string | null;
  /** Whether links and conflicts are judged by it: off, report (record only) or act. */
  readonly personMatch: PersonMatchMode;
  /** The least severe log level written (`info`: one line per request). */
  readonly logLevel: LogLevel;
  /** Strategies tried, in order, when a login is taken. */
  readonly strategies: readonly StrategyName[];
  /** Most requests decided and committed together in one transaction. */
  readonly groupCommitMax: number;
  /** How long the first request of a group waits for others, in milliseconds. */
  readonly groupCommitWindowMs: number;
  /** Connection limits and deadlines of the public listener. */
  readonly connections: {
    /** Open connections at most; each costs three file descriptors. */
    readonly max: number;
    /** From accept to the server's side of the TLS handshake. */
    readonly handshakeTimeoutMs: number;
    /** From a request's first byte to its answer (Okta gives up after 3 s anyway). */
    readonly requestTimeoutMs: number;
    /** From the handler's start to the body's end: a stalled body is answered 408. */
    readonly bodyTimeoutMs: number;
    /** While nothing is outstanding on a keep-alive connection. */
    readonly idleTimeoutMs: number;
    /** How long SIGTERM waits for requests in flight before closing what is left. */
    readonly drainTimeoutMs: number;
  };
}

/** Default location of runtime files. */
export const DATA_DIR = "data";

/** The database file when `DB_PATH` is not set. */
export const DEFAULT_DB_PATH = `${DATA_DIR}/import-hook.db`;

/** Smallest accepted secret length: a short shared secret can be guessed. */
export const MIN_SECRET_LENGTH = 16;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
import { ATTRIBUTE_NAME } from "./config_error.ts";

/** Parses and validates the service's environment variables; throws {@link ConfigError}. */
export function parseConfig(env: RawEnv): Config {
  const certFile = optional(env, "TLS_CERT_FILE");
  const keyFile = optional(env, "TLS_KEY_FILE");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const missing = certFile === undefined ? "TLS_CERT_FILE" : "TLS_KEY_FILE";
    const given = certFile === undefined ? "TLS_KEY_FILE" : "TLS_CERT_FILE";
    throw new ConfigError(missing, `Cannot read ${missing}: it must be set when ${given} is set`);
  }
  const hostname = optional(env, "BIND_ADDRESS") ?? "0.0.0.0";
  const hostnameIgnored = optional(env, "HOSTNAME") !== undefined &&
    optional(env, "BIND_ADDRESS") === undefined;
  return {
    port: integer(env, "PORT", 8443, 0, 65535),
    hostname,
    hostnameIgnored,
    plainHttp: plainHttp(env, hostname),
    trustedProxies: trustedProxies(env),
    metrics: optional(env, "METRICS_PORT") === undefined ? null : {
      hostname: optional(env, "METRICS_HOSTNAME") ?? "127.0.0.1",
      port: integer(env, "METRICS_PORT", 0, 0, 65535),
    },
    authSecrets: secrets(env),
    oauth: parseOAuth(env),
    authHeader: matching(env, "HOOK_AUTH_HEADER", "Authorization", HEADER_NAME, "a header name"),
    tls: certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : null,
    dbPath: optional(env, "DB_PATH") ?? DEFAULT_DB_PATH,
    databaseUrl: databaseUrl(env),
    ownerAttributes: ownerAttributes(env),
    personAttribute: readPersonAttribute(env),
    personMatch: personMatchMode(env),
    logLevel: logLevel(env),
    middleNameAttribute: matching(
      env,
      "MIDDLE_NAME_ATTRIBUTE",
      "middleName",
      ATTRIBUTE_NAME,
      "an attribute",
    ),
    strategies: strategies(env),
    groupCommitMax: integer(env, "GROUP_COMMIT_MAX", 256, 1, 10_000),
    groupCommitWindowMs: integer(env, "GROUP_COMMIT_WINDOW_MS", 0, 0, 100),
    connections: {
      max: integer(env, "MAX_CONNECTIONS", 256, 1, 100_000),
      handshakeTimeoutMs: integer(env, "HANDSHAKE_TIMEOUT_MS", 2000, 100, 60_000),
      requestTimeoutMs: integer(env, "REQUEST_TIMEOUT_MS", 3000, 100, 60_000),
      bodyTimeoutMs: integer(env, "BODY_TIMEOUT_MS", 2000, 100, 60_000),
      idleTimeoutMs: integer(env, "IDLE_TIMEOUT_MS", 5000, 100, 600_000),
      drainTimeoutMs: integer(env, "DRAIN_TIMEOUT_MS", 10_000, 0, 600_000),
    },
  };
}

function plainHttp(env: RawEnv, hostname: string): boolean {
  const tls = optional(env, "TLS")?.toLowerCase() ?? "on";
  if (tls !== "on" && tls !== "off") {
    throw new ConfigError("TLS", `Cannot read TLS: "${tls}" is not on or off`);
  }
  if (tls === "on") return false;
  const allow = optional(env, "ALLOW_PLAIN_HTTP")?.toLowerCase();
  const loopback = hostname === "localhost" || hostname === "::1" || /^127\./.test(hostname);
  if (!loopback && allow !== "yes") {
    throw new ConfigError(
      "TLS",
      `Cannot read TLS: "off" serves plain HTTP, which BIND_ADDRESS "${hostname}" would expose; ` +
        "bind a loopback BIND_ADDRESS, or set ALLOW_PLAIN_HTTP=yes when only the proxy can reach it",
    );
  }
  return true;
}

function trustedProxies(env: RawEnv): AddressBlock[] {
  const text = optional(env, "TRUSTED_PROXIES");
  if (text === undefined) return [];
  return text.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "").map(
    (entry) => {
      const block = parseBlock(entry);
      if (block === null) {
        throw new ConfigError(
          "TRUSTED_PROXIES",
          `Cannot read TRUSTED_PROXIES: "${entry}" is not an address or a CIDR block`,
        );
      }
      return block;
    },
  );
}

function integer(env: RawEnv, name: keyof RawEnv, fallback: number, min: number, max: number) {
  const text = optional(env, name);
  if (text === undefined) return fallback;
  // A negative number is a number out of range, not "not a number".
  if (!/^-?\d+$/.test(text)) {
    throw new ConfigError(name, `Cannot read ${name}: "${text}" is not a number`);
  }
  const value = Number(text);
  if (value < min || value > max) {
    throw new ConfigError(name, `Cannot read ${name}: "${text}" is not between ${min} and ${max}`);
  }
  return value;
}

function matching(
  env: RawEnv,
  name: keyof RawEnv,
  fallback: string,
  pattern: RegExp,
  what: string,
): string {
  const text = optional(env, name) ?? fallback;
  if (!pattern.test(text)) {
    throw new ConfigError(name, `Cannot read ${name}: "${text}" is not ${what}`);
  }
  return text;
}

function secrets(env: RawEnv): string[] | null {
  const text = optional(env, "HOOK_AUTH_SECRET");
  if (text === undefined) return null;
  // Several comma-separated values are accepted at once so a secret can be rotated: add the new
  // one, update Okta, then remove the old one.
  const values = text.split(",").map((value) => value.trim()).filter((value) => value !== "");
  if (values.length === 0) {
    throw new ConfigError(
      "HOOK_AUTH_SECRET",
      `Cannot read HOOK_AUTH_SECRET: "${text}" holds no secret`,
    );
  }
  values.forEach((value, i) => {
    if (value.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(
        "HOOK_AUTH_SECRET",
        `Cannot read HOOK_AUTH_SECRET: value ${
          i + 1
        } is shorter than ${MIN_SECRET_LENGTH} characters`,
      );
    }
    if ([...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
      throw new ConfigError(
        "HOOK_AUTH_SECRET",
        `Cannot read HOOK_AUTH_SECRET: value ${i + 1} holds a control character`,
      );
    }
  });
  return values;
}

function databaseUrl(env: RawEnv): string | null {
  const text = optional(env, "DATABASE_URL");
  if (text === undefined) return null;
  // Never echoed: it may hold a password.
  const url = urlSetting("DATABASE_URL", text, "it is not a URL (postgres://user@host/db)");
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new ConfigError(
      "DATABASE_URL",
      "Cannot read DATABASE_URL: it must start with postgres://",
    );
  }
  if (url.hostname === "" || url.username === "" || url.pathname.length <= 1) {
    throw new ConfigError(
      "DATABASE_URL",
      "Cannot read DATABASE_URL: it must name a user, a host and a database (postgres://user@host/db)",
    );
  }
  return text;
}

/** `DATABASE_URL` fit for a log line: the password left out. */
export function redactedUrl(text: string): string {
  const url = new URL(text);
  if (url.password !== "") url.password = "***";
  return url.href;
}

function logLevel(env: RawEnv): LogLevel {
  const text = optional(env, "LOG_LEVEL")?.toLowerCase() ?? "info";
  const level = LOG_LEVELS.find((known) => known === text);
  if (level === undefined) {
    throw new ConfigError(
      "LOG_LEVEL",
      `Cannot read LOG_LEVEL: "${text}" is not one of ${LOG_LEVELS.join(", ")}`,
    );
  }
  return level;
}

function strategies(env: RawEnv): StrategyName[] {
  const text = optional(env, "RESOLUTION_STRATEGIES");
  if (text === undefined) return [...STRATEGY_NAMES];
  const names = text.split(",").map((name) => name.trim()).filter((name) => name !== "");
  for (const name of names) {
    if (!(STRATEGY_NAMES as readonly string[]).includes(name)) {
      throw new ConfigError(
        "RESOLUTION_STRATEGIES",
        `Cannot read RESOLUTION_STRATEGIES: "${name}" is not one of ${STRATEGY_NAMES.join(", ")}`,
      );
    }
  }
  if (new Set(names).size !== names.length) {
    throw new ConfigError(
      "RESOLUTION_STRATEGIES",
      `Cannot read RESOLUTION_STRATEGIES: "${text}" names a strategy twice`,
    );
  }
  return names as StrategyName[];
}
