/** The start line: where the service listens and how it is set up, never a secret. */

import { type Config, redactedUrl } from "../config.ts";
import type { LogFields, Logger } from "../log.ts";
import { countOwnerFallbacks } from "../store/audit_queries.ts";

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
    ownerAttributes: config.ownerAttributes.join(","),
    strategies: config.strategies.join(","),
    personAttribute: config.personAttribute ?? "(none)",
    personMatch: config.personAttribute === null ? "off (no PERSON_ATTRIBUTE)" : config.personMatch,
  };
}

/** A bound address as a URL host: a wildcard as localhost, IPv6 in brackets. */
export function displayHost(hostname: string): string {
  if (hostname === "0.0.0.0" || hostname === "::") return "localhost";
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

/** Warns at start of a setting that is set but ignored: `HOSTNAME` (see `BIND_ADDRESS`). */
export function warnIgnoredSettings(config: Config, log: Logger): void {
  if (!config.hostnameIgnored) return;
  log.warn("HOSTNAME is ignored: the address to bind is BIND_ADDRESS", {
    bindAddress: config.hostname,
    hint: "Docker and Kubernetes set HOSTNAME to the container's name; set BIND_ADDRESS instead",
  });
}

/**
 * Warns at start when earlier decisions had no owner attribute value and no app user id: those
 * people were owned by their event, so a later import cannot recognise them.
 */
export async function warnOwnerFallbacks(config: Config, log: Logger): Promise<void> {
  const counts = await countOwnerFallbacks(config);
  if (counts === null || counts.event === 0) return;
  log.warn(
    "Decisions without an owner attribute value or app user id: a later import cannot recognise those people",
    {
      decisions: counts.event,
      ownerAttributes: config.ownerAttributes.join(","),
      hint:
        "Set OWNER_ATTRIBUTE to the app user attribute holding the source's unique id; see deno task audit summary",
    },
  );
}
