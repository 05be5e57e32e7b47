/**
 * OAuth 2.0 bearer tokens on Okta's calls (channel type `OAUTH`): Okta gets an access token from
 * the authorization server the admin names and sends it as `Authorization: Bearer <JWT>`. Each
 * token is verified with `jose` against the issuer's published keys, then its claims are checked:
 * `iss` exactly, `aud`, `exp`, `nbf` and `iat` with a small clock skew, the scopes, the client id.
 *
 * The keys come from the issuer's metadata (`jwks_uri`) and are kept: refreshed in the background
 * when old, and at once for a token whose `kid` is unknown, but at most once per cooldown so a
 * flood of made-up `kid`s cannot hammer the issuer. A failed refresh keeps the keys it had. No
 * request waits on the network for longer than {@link FETCH_TIMEOUT_MS}.
 */

import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
} from "jose";
import type { OAuthConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { messageOf } from "../log.ts";
import { type AuthCheck, type AuthRefusal, type AuthResult, refusal } from "./auth.ts";

/** Signature algorithms accepted: asymmetric only, so never `none` and never an HMAC. */
export const ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;

const ALLOWED: string[] = [...ALGORITHMS];

/** Clock skew allowed on `exp`, `nbf` and `iat`, in seconds. */
export const CLOCK_SKEW_S = 30;
/** The longest a request waits for the issuer's metadata and keys, in milliseconds. */
export const FETCH_TIMEOUT_MS = 1000;
/** After a fetch, the next one for an unknown `kid` waits this long, in milliseconds. */
export const UNKNOWN_KID_COOLDOWN_MS = 10_000;
/** With no keys at all, fetches are at least this far apart, in milliseconds. */
export const NO_KEYS_COOLDOWN_MS = 1000;
/** Keys older than this are refreshed in the background, in milliseconds. */
export const KEYS_MAX_AGE_MS = 5 * 60_000;
/** Longest `Authorization` value looked at; an access token is a few kilobytes at most. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
/** Largest metadata or key set read from the issuer. */
const MAX_DOCUMENT_BYTES = 512 * 1024;

/** How the key source reaches the issuer; replaceable in tests. */
export interface KeySourceOptions {
  readonly fetch?: typeof fetch;
  /** Monotonic milliseconds. */
  readonly nowMs?: () => number;
  readonly log?: Pick<Logger, "info" | "warn">;
}

/** The keys could not be had: nothing cached and the issuer did not answer in time. */
export class KeysUnavailable extends Error {
  override name = "KeysUnavailable";
}

/** Counts, for tests and metrics. */
export interface KeySourceStats {
  /** Fetches of the key set begun (metadata fetches not counted). */
  readonly keyFetches: number;
  readonly failedFetches: number;
  /** Keys held now. */
  readonly keys: number;
}

/**
 * The issuer's signing keys, fetched through its metadata and kept. `key()` is a `jose` key
 * resolver.
 */
export class IssuerKeys {
  readonly #issuer: string;
  readonly #fetch: typeof fetch;
  readonly #nowMs: () => number;
  readonly #log: Pick<Logger, "info" | "warn"> | undefined;
  #jwksUri: URL | null = null;
  #local: JWTVerifyGetKey | null = null;
  #count = 0;
  #fetchedAtMs = -Infinity;
  #attemptAtMs = -Infinity;
  #inflight: Promise<void> | null = null;
  #keyFetches = 0;
  #failed = 0;

  constructor(issuer: string, options: KeySourceOptions = {}) {
    this.#issuer = issuer;
    this.#fetch = options.fetch ?? fetch;
    this.#nowMs = options.nowMs ?? (() => performance.now());
    this.#log = options.log;
  }

  /** Counts so far. */
  get stats(): KeySourceStats {
    return { keyFetches: this.#keyFetches, failedFetches: this.#failed, keys: this.#count };
  }

  /** Fetches the keys now (at start), resolving when done or failed; never rejects. */
  prime(): Promise<void> {
    return this.#refresh();
  }

  /** The key for a token's protected header: a `jose` key resolver. */
  key: JWTVerifyGetKey = async (header, token) => {
    const now = this.#nowMs();
    if (this.#local === null) {
      if (now - this.#attemptAtMs >= NO_KEYS_COOLDOWN_MS) await this.#refresh();
      const loaded = this.#resolver();
      if (loaded === null) throw new KeysUnavailable("The issuer's keys are unavailable");
      return await loaded(header, token);
    }
    if (now - this.#fetchedAtMs >= KEYS_MAX_AGE_MS && this.#inflight === null) {
      void this.#refresh(); // in the background: the keys held keep working meanwhile
    }
    try {
      return await this.#local(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      if (now - this.#attemptAtMs < UNKNOWN_KID_COOLDOWN_MS) throw error;
      await this.#refresh();
      return await (this.#resolver() ?? this.#local)(header, token);
    }
  };

  // Read through a method: the field changes while a fetch is awaited.
  #resolver(): JWTVerifyGetKey | null {
    return this.#local;
  }

  /** One fetch at a time; whoever asks meanwhile waits for it. */
  #refresh(): Promise<void> {
    this.#inflight ??= this.#load().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #load(): Promise<void> {
    this.#attemptAtMs = this.#nowMs();
    const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
    try {
      this.#jwksUri ??= await this.#discover(signal);
      this.#keyFetches++;
      const set = parseKeySet(await this.#document(this.#jwksUri, signal));
      this.#local = createLocalJWKSet(set);
      this.#count = set.keys.length;
      this.#fetchedAtMs = this.#nowMs();
    } catch (error) {
      this.#failed++;
      this.#log?.warn("Cannot fetch the OAuth issuer's keys; keeping those held", {
        issuer: this.#issuer,
        keys: this.#count,
        error: messageOf(error),
      });
    }
  }

  /**
   * The `jwks_uri` from `{issuer}/.well-known/oauth-authorization-server`, else from
   * `/.well-known/openid-configuration`. The metadata must name this very issuer.
   */
  async #discover(signal: AbortSignal): Promise<URL> {
    const base = this.#issuer.replace(/\/$/, "");
    const problems: string[] = [];
    for (const path of ["oauth-authorization-server", "openid-configuration"]) {
      let metadata: unknown;
      try {
        metadata = await this.#document(new URL(`${base}/.well-known/${path}`), signal);
      } catch (error) {
        if (signal.aborted) throw error;
        problems.push(`${path}: ${messageOf(error)}`);
        continue;
      }
      const { issuer, jwks_uri } = (metadata ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
      if (issuer !== this.#issuer) {
        throw new Error(`the ${path} metadata names issuer ${JSON.stringify(issuer)}`);
      }
      if (typeof jwks_uri !== "string") throw new Error(`the ${path} metadata has no jwks_uri`);
      const uri = new URL(jwks_uri);
      if (uri.protocol !== "https:" && !(uri.protocol === "http:" && isLoopback(uri))) {
        throw new Error(`the jwks_uri ${uri.href} is not https://`);
      }
      return uri;
    }
    throw new Error(`no metadata (${problems.join("; ")})`);
  }

  async #document(url: URL, signal: AbortSignal): Promise<unknown> {
    const response = await this.#fetch(url, {
      signal,
      redirect: "error",
      headers: { accept: "application/json" },
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`${url.pathname} answered ${response.status}`);
    }
    const length = Number(response.headers.get("content-length") ?? "0");
    if (length > MAX_DOCUMENT_BYTES) {
      await response.body?.cancel();
      throw new Error(`${url.pathname} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    }
    const text = await response.text();
    if (text.length > MAX_DOCUMENT_BYTES) {
      throw new Error(`${url.pathname} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    }
    return JSON.parse(text);
  }
}

/** The asymmetric keys of a JWKS document; throws when it is not one. */
export function parseKeySet(document: unknown): JSONWebKeySet {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error("the key set has no keys array");
  // A symmetric ("oct") key in a public key set could only be a mistake or an attack.
  const usable = keys.filter((k): k is JSONWebKeySet["keys"][number] =>
    typeof k === "object" && k !== null &&
    ["RSA", "EC", "OKP"].includes((k as { kty?: unknown }).kty as string) &&
    (k as { use?: unknown }).use !== "enc"
  );
  return { keys: usable };
}

/** Builds the bearer-token check for `config`, with `keys` for its issuer. */
export function createTokenCheck(
  config: Pick<OAuthConfig, "issuer" | "audience" | "scopes" | "clientIds">,
  keys: IssuerKeys,
  nowS: () => number = () => Date.now() / 1000,
): AuthCheck {
  return async function checkToken(headers: Headers): Promise<AuthResult> {
    const value = headers.get("authorization");
    if (value === null || value === "") {
      return invalid("MISSING_CREDENTIALS", "Missing bearer token in the Authorization header");
    }
    const match = /^bearer +([A-Za-z0-9_.~+/=-]+)$/i.exec(value.trim());
    if (match === null || value.length > MAX_TOKEN_LENGTH) {
      return invalid("INVALID_CREDENTIALS", "The Authorization header is not a bearer token");
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1]!, keys.key, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: ALLOWED,
        clockTolerance: CLOCK_SKEW_S,
        requiredClaims: ["exp"],
        currentDate: new Date(nowS() * 1000),
      }));
    } catch (error) {
      return tokenRefusal(error);
    }
    if (typeof payload.iat === "number" && payload.iat > nowS() + CLOCK_SKEW_S) {
      return invalid("INVALID_TOKEN", "The bearer token is issued in the future (iat)");
    }
    const granted = scopesOf(payload);
    const lacking = config.scopes.filter((scope) => !granted.has(scope));
    if (lacking.length > 0) {
      return invalid(
        "INSUFFICIENT_SCOPE",
        `The bearer token lacks the scope${
          lacking.length === 1 ? "" : "s"
        } HOOK_OAUTH_SCOPES names`,
      );
    }
    if (config.clientIds.length > 0) {
      const client = payload.cid ?? payload.client_id;
      if (typeof client !== "string" || !config.clientIds.includes(client)) {
        return invalid(
          "INVALID_TOKEN",
          "The bearer token's client id (cid) is not one of HOOK_OAUTH_CLIENT_IDS",
        );
      }
    }
    return { ok: true };
  };
}

/** Scopes as Okta writes them (`scp`, an array) or as RFC 9068 does (`scope`, a string). */
function scopesOf(payload: JWTPayload): Set<string> {
  const scopes = new Set<string>();
  if (Array.isArray(payload.scp)) {
    for (const s of payload.scp) if (typeof s === "string") scopes.add(s);
  } else if (typeof payload.scp === "string") {
    for (const s of payload.scp.split(" ")) scopes.add(s);
  }
  if (typeof payload.scope === "string") {
    for (const s of payload.scope.split(" ")) {
      scopes.add(s);
    }
  }
  return scopes;
}

/** Names the check a token failed, from `jose`'s error: never the token or its claims. */
function tokenRefusal(error: unknown): AuthRefusal {
  if (error instanceof KeysUnavailable) {
    return refusal(
      503,
      "KEYS_UNAVAILABLE",
      "The OAuth issuer's keys cannot be fetched to check the bearer token",
      "Authorization",
    );
  }
  if (error instanceof errors.JWTExpired) {
    return invalid("INVALID_TOKEN", "The bearer token has expired");
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const which: Record<string, string> = {
      iss: "The bearer token's issuer (iss) is not HOOK_OAUTH_ISSUER",
      aud: "The bearer token's audience (aud) is not HOOK_OAUTH_AUDIENCE",
      nbf: "The bearer token is not valid yet (nbf)",
      exp: "The bearer token has no expiry (exp)",
      iat: "The bearer token's issue time (iat) is not a time",
    };
    return invalid("INVALID_TOKEN", which[error.claim] ?? "A claim of the bearer token is invalid");
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return invalid(
      "INVALID_TOKEN",
      "The bearer token's algorithm is not allowed (asymmetric signatures only)",
    );
  }
  if (
    error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return invalid("INVALID_TOKEN", "The bearer token's key (kid) is not one of the issuer's keys");
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalid("INVALID_TOKEN", "The bearer token's signature does not verify");
  }
  return invalid("INVALID_TOKEN", "The bearer token is not a well-formed signed JWT");
}

function invalid(reason: string, summary: string): AuthRefusal {
  return refusal(401, reason, summary, "Authorization");
}

function isLoopback(url: URL): boolean {
  return ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}
