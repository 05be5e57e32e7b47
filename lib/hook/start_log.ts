/** The start line: where the service listens and how it is set up, never a secret. */

import { type Config, redactedUrl } from "../config.ts";
import type { LogFields } from "../log.ts";

/** The "Listening" line's fields: `secrets` and `issuerKeys` are counts. */
export function listeningFields(
  config: Config,
  addr: Deno.NetAddr,
  secrets: number,
  issuerKeys: number,
): LogFields {
  return {
    url: `${config.plainHttp ? "http" : "https"}://${
      displayHost(addr.hostname)
    }:${addr.port}/hooks/import`,
    tls: config.plainHttp ? "off: a proxy in front terminates TLS" : "on",
    db: config.databaseUrl === null ? config.dbPath : redactedUrl(config.databaseUrl),
    auth: config.oauth === null
      ? "header secret"
      : config.oauth.acceptSecret
      ? "OAuth bearer token or header secret (switching over)"
      : "OAuth bearer token",
    ...(config.oauth === null ? {} : {
      issuer: config.oauth.issuer,
      audience: config.oauth.audience,
      issuerKeys,
    }),
    ...(secrets === 0 ? {} : { authHeader: config.authHeader, secrets }),
    ownerAttribute: config.ownerAttribute,
    strategies: config.strategies.join(","),
  };
}

/** A bound address as a URL host: a wildcard as localhost, IPv6 in brackets. */
export function displayHost(hostname: string): string {
  if (hostname === "0.0.0.0" || hostname === "::") return "localhost";
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
