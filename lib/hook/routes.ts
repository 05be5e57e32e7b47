/**
 * The HTTP surface: `POST /hooks/import` runs the pipeline (auth, body, schema, decision, reply),
 * `GET /healthz` reports readiness, everything else is 404 or 405. One catch turns the unexpected
 * into a logged, generic 500; no request can stop the service.
 */

import { VERSION } from "../version.ts";
import type { RejectionRecord } from "../decision/records.ts";
import type { AuthCheck } from "./auth.ts";
import { CommitError } from "../store/commit_error.ts";
import type { DecisionStore } from "../store/decision_store.ts";
import { type AddressBlock, TrustedProxies } from "../addresses.ts";
import type { Metrics } from "./metrics.ts";
import { requestPath } from "./request_path.ts";
import { readHookEvent, textProblem } from "../decision/hook_event.ts";
import { type BodyProblem, parseHookRequest } from "../decision/hook_schema.ts";
import type { LogFields, Logger } from "../log.ts";
import { cause, ERROR_DOMAIN, errorReply } from "../decision/okta_response.ts";
import type { Reply } from "../decision/records.ts";
import { toResponse } from "./http_reply.ts";
import { discardBody, MAX_BODY_BYTES, readBody } from "./read_body.ts";

/** Path Okta calls. */
export const HOOK_PATH = "/hooks/import";
/** Readiness probe path. */
export const HEALTH_PATH = "/healthz";

/** What the handler works with; built once at start. */
export interface HandlerDeps {
  readonly checkAuth: AuthCheck;
  /** Decides and records, committed in groups. */
  readonly store: Pick<DecisionStore, "decide" | "recordRejection" | "health">;
  readonly ownerAttributes: readonly string[];
  readonly middleNameAttribute: string;
  /** Okta user profile attribute identifying a person across accounts, if any. */
  readonly personAttribute?: string | null;
  readonly log: Logger;
  /** Wall clock, for audit timestamps. */
  readonly now: () => Date;
  /** Monotonic milliseconds, for durations. */
  readonly nowMs: () => number;
  /** One client connection, one request on it: the store may commit this one at once. */
  readonly alone?: () => boolean;
  readonly maxBodyBytes?: number;
  /** How long a request body may take to arrive before it is answered 408. */
  readonly bodyTimeoutMs?: number;
  /**
   * Takes the refusals of unauthenticated requests (401, 403) to count and record in aggregate;
   * without it each is recorded like any other refusal.
   */
  readonly countRefusal?: (record: RejectionRecord) => void;
  /** The client behind a connection from the connection guard, by that connection's address. */
  readonly peerOf?: (internal: Deno.NetAddr) => string | null;
  /** Proxies whose X-Forwarded-For names the client (TRUSTED_PROXIES). */
  readonly trustedProxies?: readonly AddressBlock[];
  /** Where requests, decisions and refusals are counted. */
  readonly metrics?: Metrics;
}

/** A request handler for `Deno.serve`. */
export type Handler = (request: Request, info: Deno.ServeHandlerInfo) => Promise<Response>;

interface Context {
  readonly request: Request;
  readonly info: Deno.ServeHandlerInfo;
  readonly path: string;
  readonly startedMs: number;
  readonly received: Date;
  /** Filled in by the route for the request's log line. */
  readonly fields: LogFields;
  readonly proxies: TrustedProxies;
}

type Route = (ctx: Context, deps: HandlerDeps) => Promise<Response> | Response;

const ROUTES: Record<string, Partial<Record<string, Route>>> = {
  [HOOK_PATH]: { POST: handleImport },
  [HEALTH_PATH]: { GET: handleHealth, HEAD: handleHealth },
};

/** Builds the service's request handler. */
export function createHandler(deps: HandlerDeps): Handler {
  const proxies = new TrustedProxies(deps.trustedProxies ?? []);
  return async function handle(request, info) {
    const startedMs = deps.nowMs();
    const path = requestPath(request);
    // Logged and recorded cut short: the target and method are the client's to make long.
    const fields: LogFields = { method: cut(request.method), path: cut(path) };
    const ctx: Context = {
      request,
      info,
      path,
      startedMs,
      received: deps.now(),
      fields,
      proxies,
    };
    let response: Response;
    try {
      response = await route(ctx, deps);
    } catch (error) {
      deps.log.error("Request failed", error, { method: fields.method, path: fields.path });
      response = toResponse(errorReply(500, "Internal error; the decision was not made"));
    }
    deps.metrics?.request(path, response.status);
    deps.log.request({
      ...fields,
      status: response.status,
      ms: Math.round((deps.nowMs() - startedMs) * 100) / 100,
    });
    return response;
  };
}

function route(ctx: Context, deps: HandlerDeps): Promise<Response> | Response {
  // Own keys only: a path or method named like an Object.prototype member is not a route.
  const methods = Object.hasOwn(ROUTES, ctx.path) ? ROUTES[ctx.path] : undefined;
  if (methods === undefined) return toResponse(errorReply(404, `No route for ${cut(ctx.path)}`));
  const method = ctx.request.method;
  const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (handler === undefined) {
    const allow = Object.keys(methods).join(", ");
    return toResponse(
      errorReply(405, `Method ${cut(method)} is not allowed on ${ctx.path}; use ${allow}`),
      { allow },
    );
  }
  return handler(ctx, deps);
}

async function handleHealth(ctx: Context, deps: HandlerDeps): Promise<Response> {
  const health = await deps.store.health();
  if (ctx.request.method === "HEAD") return new Response(null, { status: health.ok ? 200 : 503 });
  return health.ok
    ? Response.json({ status: "ok", version: VERSION })
    : toResponse(errorReply(503, `Decisions cannot be committed: ${health.reason}`));
}

async function handleImport(ctx: Context, deps: HandlerDeps): Promise<Response> {
  const auth = await deps.checkAuth(ctx.request.headers);
  if (!auth.ok) {
    await discardBody(ctx.request);
    const reply = errorReply(auth.status, auth.summary, [{
      errorSummary: auth.summary,
      reason: auth.reason,
      locationType: "header",
      location: auth.location,
      domain: ERROR_DOMAIN,
    }]);
    const headers: Record<string, string> = auth.status === 503 ? { "retry-after": "1" } : {};
    return reject(ctx, deps, reply, auth.summary, null, { unauthenticated: true, headers });
  }

  if (!isJson(ctx.request.headers.get("content-type"))) {
    await discardBody(ctx.request);
    const summary = "The request body must be application/json";
    const reply = errorReply(415, summary, [{
      errorSummary: summary,
      reason: "UNSUPPORTED_MEDIA_TYPE",
      locationType: "header",
      location: "Content-Type",
      domain: ERROR_DOMAIN,
    }]);
    return reject(ctx, deps, reply, summary, null);
  }

  const body = await readBody(ctx.request, {
    maxBytes: deps.maxBodyBytes ?? MAX_BODY_BYTES,
    ...(deps.bodyTimeoutMs === undefined ? {} : { timeoutMs: deps.bodyTimeoutMs }),
  });
  if (!body.ok) {
    const reply = errorReply(body.status, body.reason, [cause(body.reason, "INVALID_BODY", "")]);
    return reject(ctx, deps, reply, body.reason, null);
  }

  const parsed = parseHookRequest(body.text);
  if (!parsed.ok) {
    const causes = parsed.problems.map((p) => cause(p.summary, p.reason, p.location));
    const reason = problemsReason(parsed.summary, parsed.problems);
    return reject(ctx, deps, errorReply(400, parsed.summary, causes), reason, eventIdOf(body.text));
  }

  const read = readHookEvent(parsed.value, deps);
  if (!read.ok) {
    const summary = "Request body holds a value that cannot be used";
    const causes = read.problems.map((p) => cause(p.summary, p.reason, p.location));
    return reject(
      ctx,
      deps,
      errorReply(400, summary, causes),
      problemsReason(summary, read.problems),
      null,
    );
  }
  const event = read.event;
  ctx.fields.eventId = event.eventId;
  try {
    const decided = await deps.store.decide(event, {
      receivedAt: ctx.received.toISOString(),
      elapsedMs: deps.nowMs() - ctx.startedMs,
      alone: deps.alone?.() ?? false,
    });
    ctx.fields.outcome = decided.outcome;
    if (event.ownerSource !== "attribute" && event.action === "CREATE_USER") {
      deps.metrics?.ownerFallback(event.ownerSource);
    }
    deps.metrics?.decided(
      decided.outcome,
      decided.strategy,
      decided.replayed,
      (deps.nowMs() - ctx.startedMs) / 1000,
    );
    if (decided.replayed) ctx.fields.replayed = true;
    if (decided.person) {
      ctx.fields.personMatch = decided.person.match;
      if (decided.person.action !== null) ctx.fields.personAction = decided.person.action;
      deps.metrics?.personJudged(decided.person.match, decided.person.action);
    }
    if (decided.eventIdReused) {
      // Okta retries with the same body; another body under a decided eventId is another person
      // (or an edited test payload): it got its own answer, never the stored one.
      deps.metrics?.eventIdReused();
      deps.log.warn("An eventId already decided came again with other inputs; decided anew", {
        eventId: event.eventId,
      });
    }
    return toResponse(decided.reply);
  } catch (error) {
    if (!(error instanceof CommitError)) throw error;
    deps.log.error("Decision not committed; answering 503 so Okta retries", error, {
      eventId: event.eventId,
    });
    return toResponse(errorReply(503, "Temporary failure storing the decision; retry"), {
      "retry-after": "1",
    });
  }
}

/** Answers a refused request and records the refusal, without its body or secret. */
async function reject(
  ctx: Context,
  deps: HandlerDeps,
  reply: Reply,
  reason: string,
  eventId: string | null,
  options: { readonly unauthenticated?: boolean; readonly headers?: Record<string, string> } = {},
): Promise<Response> {
  const record: RejectionRecord = {
    receivedAt: ctx.received.toISOString(),
    status: reply.status,
    reason,
    remoteAddr: remoteAddress(deps, ctx),
    method: cut(ctx.request.method),
    path: cut(ctx.path),
    eventId,
  };
  ctx.fields.rejected = reason;
  deps.metrics?.refused(reply.status);
  if (eventId !== null) ctx.fields.eventId = eventId;
  if (deps.countRefusal !== undefined && options.unauthenticated === true) {
    // Without credentials anyone can send these: they are counted, not written one by one.
    deps.countRefusal(record);
    return toResponse(reply, options.headers);
  }
  deps.log.warn("Refused a request", {
    status: reply.status,
    reason,
    remoteAddr: record.remoteAddr,
    eventId,
  });
  try {
    await deps.store.recordRejection(record);
  } catch (error) {
    // The refusal stands even if it could not be written down.
    deps.log.error("Could not record a rejection", error, { status: reply.status });
  }
  return toResponse(reply, options.headers);
}

/**
 * The client's address: the one behind the guard's connection when the request came through it,
 * else the socket's peer.
 */
function remoteAddress(deps: HandlerDeps, ctx: Context): string | null {
  const { remoteAddr } = ctx.info;
  if (!("hostname" in remoteAddr)) return null;
  const peer = deps.peerOf?.(remoteAddr) ?? remoteAddr.hostname;
  return ctx.proxies.clientOf(peer, ctx.request.headers.get("x-forwarded-for"));
}

/** Longest method or path logged or recorded; longer ones are cut. */
const LOGGED_CHARS = 200;

function cut(text: string): string {
  return text.length > LOGGED_CHARS ? `${text.slice(0, LOGGED_CHARS)}…` : text;
}

/** Whether a Content-Type names JSON (`application/json`, any parameters, any case). */
function isJson(contentType: string | null): boolean {
  if (contentType === null) return false;
  return contentType.split(";", 1)[0]!.trim().toLowerCase() === "application/json";
}

/** Problems listed in a rejection's reason at the most; the reply carries them all. */
const REASON_PROBLEMS = 5;

/** A rejection's reason: the summary and the first problems, each naming a field, bounded. */
function problemsReason(summary: string, problems: readonly BodyProblem[]): string {
  const listed = problems.slice(0, REASON_PROBLEMS)
    .map((p) => p.location === "" ? p.summary : `${p.location}: ${p.summary}`);
  if (problems.length > REASON_PROBLEMS) listed.push(`${problems.length - REASON_PROBLEMS} more`);
  return `${summary}: ${listed.join("; ")}`;
}

/** The eventId of a body that failed the schema, when one can be read and stored, for the audit. */
function eventIdOf(text: string): string | null {
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json !== "object" || json === null || !Object.hasOwn(json, "eventId")) return null;
    const id = (json as { eventId: unknown }).eventId;
    return typeof id === "string" && textProblem(id, 200, true) === null ? id : null;
  } catch {
    return null;
  }
}
