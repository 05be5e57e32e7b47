/** The rule's replies as HTTP: the one place a {@link Reply} becomes a `Response`. */

import type { Reply } from "../decision/records.ts";

/** Turns a reply into an HTTP response. */
export function toResponse(reply: Reply, headers: Record<string, string> = {}): Response {
  if (reply.body === null) return new Response(null, { status: reply.status, headers });
  return new Response(reply.body, {
    status: reply.status,
    headers: { "content-type": "application/json", ...headers },
  });
}
