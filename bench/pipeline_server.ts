/**
 * The serving thread's ceiling, for docs/performance.md: the service's real request handler
 * (auth, body, zod, event, reply, log line) over the same TLS as the service, with a store that
 * answers every decision at once ("unchanged", 204) instead of the database worker. What it
 * serves is what the serving thread can do with no database at all.
 *
 * Usage: deno run --v8-flags=--max-semi-space-size=2 --allow-net=127.0.0.1 --allow-read=data \
 *   bench/pipeline_server.ts PORT CERT_FILE KEY_FILE SECRET > /dev/null
 */

import { createSecretCheck } from "../lib/hook/auth.ts";
import type { Decided } from "../lib/decision/decide_event.ts";
import { createLogger } from "../lib/log.ts";
import { createHandler } from "../lib/hook/routes.ts";
import { serveTlsUntilTerm } from "./_tls_server.ts";

const [port, certFile, keyFile, secret] = Deno.args;
if (port === undefined || certFile === undefined || keyFile === undefined || !secret) {
  throw new TypeError("Usage: pipeline_server.ts PORT CERT_FILE KEY_FILE SECRET");
}

const unchanged: Decided = {
  reply: { status: 204, body: null },
  outcome: "unchanged",
  strategy: null,
  replayed: false,
  eventIdReused: false,
};
const handler = createHandler({
  checkAuth: createSecretCheck([secret], "authorization"),
  store: {
    decide: () => Promise.resolve(unchanged),
    recordRejection: () => Promise.resolve(),
    health: () => Promise.resolve({ ok: true as const }),
  },
  ownerAttributes: ["employeeId"],
  middleNameAttribute: "middleName",
  log: createLogger(),
  now: () => new Date(),
  nowMs: () => performance.now(),
});

await serveTlsUntilTerm(port, certFile, keyFile, handler);
