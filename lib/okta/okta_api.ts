/**
 * A small client for Okta's management API: the `SSWS` token, cursor paging through `Link`
 * headers, the rate-limit headers, bounded retries. The admin commands use it; the hook never
 * calls Okta (3-second budget, shared rate limits).
 */

import { ConfigError } from "../config.ts";
import { messageOf } from "../log.ts";

/** The environment variables that point at an Okta org. */
export const OKTA_VARIABLES = ["OKTA_ORG_URL", "OKTA_API_TOKEN"] as const;

/** Raw values as read from the environment. */
export type OktaEnv = Partial<Record<typeof OKTA_VARIABLES[number], string>>;

/** Where the org is and how to authenticate to it. */
export interface OktaTarget {
  /** The org's origin, e.g. `https://acme.okta.com`. */
  readonly orgUrl: URL;
  /** The API token, without the `SSWS ` scheme. */
  readonly token: string;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Validates `OKTA_ORG_URL` and `OKTA_API_TOKEN`; throws {@link ConfigError} naming the variable.
 * Plain `http://` is accepted only on loopback, where the tests' fake Okta listens.
 */
export function parseOktaEnv(env: OktaEnv): OktaTarget {
  const text = env.OKTA_ORG_URL?.trim() ?? "";
  if (text === "") {
    throw new ConfigError(
      "OKTA_ORG_URL",
      "Cannot read OKTA_ORG_URL: it must be set, e.g. https://acme.okta.com",
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError("OKTA_ORG_URL", `Cannot read OKTA_ORG_URL: "${text}" is not a URL`);
  }
  const isLoopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback)) {
    throw new ConfigError(
      "OKTA_ORG_URL",
      `Cannot read OKTA_ORG_URL: "${text}" does not start with https://`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new ConfigError(
      "OKTA_ORG_URL",
      "Cannot read OKTA_ORG_URL: it must not hold a user name or password",
    );
  }
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "") {
    throw new ConfigError(
      "OKTA_ORG_URL",
      `Cannot read OKTA_ORG_URL: "${text}" has a path; give the org's address only, e.g. ${url.origin}`,
    );
  }
  // Tokens are often pasted together with their scheme.
  const token = (env.OKTA_API_TOKEN ?? "").trim().replace(/^SSWS\s+/i, "");
  if (token === "") {
    throw new ConfigError(
      "OKTA_API_TOKEN",
      "Cannot read OKTA_API_TOKEN: it must be set to an Okta API token",
    );
  }
  if ([...token].some((c) => /\s/.test(c) || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    // Never echo the value: it is a credential.
    throw new ConfigError(
      "OKTA_API_TOKEN",
      "Cannot read OKTA_API_TOKEN: it holds a space or control character",
    );
  }
  return { orgUrl: new URL(url.origin), token };
}

/** Okta answered with an error status; `status` is the HTTP status. */
export class OktaApiError extends Error {
  override name = "OktaApiError";
  /** The HTTP status Okta answered with. */
  readonly status: number;

  /** An error for `status`, with the message given. */
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Okta refused the API token (401) or its admin's rights (403). */
export class OktaAuthError extends OktaApiError {
  override name = "OktaAuthError";
}

/** A pause the client made, reported so a command can say why it is waiting. */
export interface OktaWait {
  /** `rate-limit`: the last reply said no requests remain; `429`; `retry`: 5xx or network. */
  readonly reason: "rate-limit" | "429" | "retry";
  readonly ms: number;
  /** Method and path of the request about to be (re)sent. */
  readonly request: string;
}

/** Options for {@link OktaClient}; the seams (fetch, sleep, clock) are for tests. */
export interface OktaClientOptions {
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The local clock, epoch milliseconds. */
  readonly now?: () => number;
  /** Retries of a 5xx or a network failure (idempotent methods only). */
  readonly maxRetries?: number;
  /** The first retry waits this long, each further one twice as long. */
  readonly retryDelayMs?: number;
  /** 429 replies in a row before giving up. */
  readonly max429?: number;
  /** Longest single wait for a rate-limit reset. */
  readonly maxWaitMs?: number;
  /** A request taking longer than this is abandoned (and retried like a 5xx). */
  readonly timeoutMs?: number;
  readonly onWait?: (wait: OktaWait) => void;
}

/** A parsed reply. */
export interface OktaReply {
  readonly status: number;
  readonly headers: Headers;
  /** The JSON body, or `null` when there is none. */
  readonly body: unknown;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE"]);
/** A 429 whose reset has passed (or is missing) still waits this long. */
const MIN_429_WAIT_MS = 1000;

/** Calls one Okta org with an API token. */
export class OktaClient {
  readonly #target: OktaTarget;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  readonly #maxRetries: number;
  readonly #retryDelayMs: number;
  readonly #max429: number;
  readonly #maxWaitMs: number;
  readonly #timeoutMs: number;
  readonly #onWait: (wait: OktaWait) => void;
  /** Local time before which no request is sent: the last reply said none remain. */
  #pausedUntil = 0;

  /** A client for `target`; nothing is sent until a request is made. */
  constructor(target: OktaTarget, options: OktaClientOptions = {}) {
    this.#target = target;
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ??
      ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#now = options.now ?? Date.now;
    this.#maxRetries = options.maxRetries ?? 3;
    this.#retryDelayMs = options.retryDelayMs ?? 1000;
    this.#max429 = options.max429 ?? 10;
    this.#maxWaitMs = options.maxWaitMs ?? 120_000;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#onWait = options.onWait ?? (() => {});
  }

  /** The org this client calls. */
  get orgUrl(): URL {
    return this.#target.orgUrl;
  }

  /**
   * Sends one request to `pathOrUrl` (a path on the org, or a URL Okta gave, on the same
   * origin), waiting out rate limits and retrying as configured. Resolves to a 2xx reply;
   * throws {@link OktaAuthError} on 401/403 and {@link OktaApiError} on other errors.
   */
  async request(method: string, pathOrUrl: string, body?: unknown): Promise<OktaReply> {
    const url = new URL(pathOrUrl, this.#target.orgUrl);
    if (url.origin !== this.#target.orgUrl.origin) {
      // The token goes only to the org it belongs to.
      throw new OktaApiError(0, `Refusing to send the API token to ${url.origin}`);
    }
    const what = `${method} ${url.pathname}`;
    let retries = 0;
    let tooMany = 0;
    for (;;) {
      await this.#waitForQuota(what);
      let response: Response;
      let text: string;
      try {
        response = await this.#fetch(url, {
          method,
          headers: {
            accept: "application/json",
            authorization: `SSWS ${this.#target.token}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        // Read here so a connection dropped mid-body is retried like one that never answered.
        text = await response.text();
      } catch (error) {
        if (!IDEMPOTENT.has(method) || retries >= this.#maxRetries) {
          const retried = retries > 0 ? ` (after ${retries} retries)` : "";
          throw new OktaApiError(
            0,
            `Cannot reach Okta at ${url.origin} for ${what}${retried}: ${networkFailure(error)}`,
          );
        }
        await this.#pause({ reason: "retry", ms: this.#backoff(retries++), request: what });
        continue;
      }
      if (response.status === 429) {
        if (++tooMany > this.#max429) {
          throw new OktaApiError(
            429,
            `Okta kept answering 429 Too Many Requests to ${what} after ${this.#max429} waits`,
          );
        }
        const ms = Math.max(MIN_429_WAIT_MS, this.#untilReset(response.headers) ?? 0);
        await this.#pause({ reason: "429", ms: Math.min(ms, this.#maxWaitMs), request: what });
        continue;
      }
      this.#notePause(response.headers);
      if (response.status >= 500 && IDEMPOTENT.has(method) && retries < this.#maxRetries) {
        await this.#pause({ reason: "retry", ms: this.#backoff(retries++), request: what });
        continue;
      }
      if (response.status >= 200 && response.status < 300) {
        return { status: response.status, headers: response.headers, body: parseJson(text) };
      }
      const retried = retries > 0 ? ` after ${retries} retries` : "";
      const summary = errorSummary(text);
      const detail = `${response.status} ${response.statusText}`.trim() +
        (summary === "" ? "" : `: ${summary}`);
      if (response.status === 401 || response.status === 403) {
        throw new OktaAuthError(
          response.status,
          `Okta refused OKTA_API_TOKEN for ${what} with ${detail}` +
            (response.status === 403 ? " (the token's admin lacks the permission for this)" : ""),
        );
      }
      throw new OktaApiError(response.status, `Okta answered ${what} with ${detail}${retried}`);
    }
  }

  /**
   * Yields each page of a list, following the `Link: <...>; rel="next"` header exactly as
   * given until there is none.
   */
  async *pages(path: string): AsyncGenerator<readonly unknown[]> {
    let next: string | null = path;
    while (next !== null) {
      const reply: OktaReply = await this.request("GET", next);
      if (!Array.isArray(reply.body)) {
        throw new OktaApiError(reply.status, `Okta answered GET ${path} with something not a list`);
      }
      yield reply.body;
      next = nextLink(reply.headers.get("link"));
    }
  }

  async #waitForQuota(request: string): Promise<void> {
    const ms = this.#pausedUntil - this.#now();
    if (ms > 0) await this.#pause({ reason: "rate-limit", ms, request });
    this.#pausedUntil = 0;
  }

  async #pause(wait: OktaWait): Promise<void> {
    this.#onWait(wait);
    await this.#sleep(wait.ms);
  }

  /** After a reply saying no requests remain, holds the next request until the reset. */
  #notePause(headers: Headers): void {
    if (headers.get("x-rate-limit-remaining")?.trim() !== "0") return;
    const ms = this.#untilReset(headers);
    if (ms !== null && ms > 0) this.#pausedUntil = this.#now() + Math.min(ms, this.#maxWaitMs);
  }

  /**
   * Milliseconds until `X-Rate-Limit-Reset` (UTC epoch seconds), measured against the reply's
   * `Date` when present so a skewed local clock neither skips nor stretches the wait.
   */
  #untilReset(headers: Headers): number | null {
    const reset = Number(headers.get("x-rate-limit-reset") ?? "");
    if (!Number.isFinite(reset) || reset <= 0) return null;
    const date = Date.parse(headers.get("date") ?? "");
    const serverNow = Number.isNaN(date) ? this.#now() : date;
    return reset * 1000 - serverNow;
  }

  #backoff(retry: number): number {
    return this.#retryDelayMs * 2 ** retry;
  }
}

/** The URL marked `rel="next"` in a `Link` header (several links, possibly joined), if any. */
export function nextLink(header: string | null): string | null {
  if (header === null) return null;
  // A URL in angle brackets may itself hold commas and semicolons, so match it whole.
  for (const match of header.matchAll(/<([^>]*)>([^<]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match[2] ?? "");
    const relations = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
    if (relations.includes("next")) return match[1] ?? null;
  }
  return null;
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new OktaApiError(0, "Okta answered with a body that is not JSON");
  }
}

/** Okta's own explanation from an error body (`errorSummary`), or "". */
function errorSummary(text: string): string {
  try {
    const body = JSON.parse(text) as { errorSummary?: unknown };
    return typeof body.errorSummary === "string" ? body.errorSummary.slice(0, 300) : "";
  } catch {
    return "";
  }
}

function networkFailure(error: unknown): string {
  if (error instanceof DOMException && error.name === "TimeoutError") return "no answer in time";
  return messageOf(error);
}
