/**
 * Okta-shaped reply bodies: commands for a changed login, nothing for no change, and the
 * `error` object for a conflict that cannot be resolved or a request that cannot be used.
 */

import { quote } from "./quote.ts";
import type { Reply } from "./records.ts";
import type { Resolution } from "./resolve_login.ts";

/** Okta's `errorCauses` entry. */
export interface ErrorCause {
  readonly errorSummary: string;
  readonly reason: string;
  readonly locationType: "body" | "header" | "url" | "query";
  readonly location: string;
  readonly domain: string;
}

/** Okta's `errorCauses[].domain` for problems this service finds. */
export const ERROR_DOMAIN = "import-hook";

/** The command type that changes the Okta user profile Okta is about to create. */
export const PROFILE_UPDATE = "com.okta.user.profile.update";
/** The command type that overrides Okta's action (CREATE_USER or LINK_USER). */
export const ACTION_UPDATE = "com.okta.action.update";
/** The command type that names the existing Okta user to link to. */
export const USER_UPDATE = "com.okta.user.update";

/** The reply to Okta for a resolution. */
export function resolutionReply(resolution: Resolution): Reply {
  switch (resolution.outcome) {
    case "skipped":
    case "unchanged":
      return { status: 204, body: null };
    case "resolved": {
      // A refused link becomes a create first: the action command leads, as in Okta's examples.
      const create = resolution.person?.action === "refused_link"
        ? [{ type: ACTION_UPDATE, value: { result: "CREATE_USER" } }]
        : [];
      return {
        status: 200,
        body: JSON.stringify({
          commands: [...create, { type: PROFILE_UPDATE, value: { login: resolution.login } }],
          debugContext: { outcome: "resolved", strategy: resolution.strategy },
        }),
      };
    }
    case "linked":
      // Okta's documented link: the action first, then the user (the order Okta's samples use;
      // one public report says the reverse order was logged as processed but not linked).
      return {
        status: 200,
        body: JSON.stringify({
          commands: [
            { type: ACTION_UPDATE, value: { result: "LINK_USER" } },
            { type: USER_UPDATE, value: { id: resolution.oktaUserId } },
          ],
          debugContext: { outcome: "linked" },
        }),
      };
    case "unresolved":
      return {
        status: 200,
        body: JSON.stringify({
          error: {
            errorSummary: `Could not derive a unique login for ${quote(resolution.original)}: ${
              lowerFirst(resolution.reason)
            } and no candidate is free`,
            errorCauses: resolution.problems.map((problem) =>
              cause(problem.summary, problem.reason, "data.user.profile.login")
            ),
          },
          debugContext: { outcome: "unresolved" },
        }),
      };
  }
}

/** An Okta error body with the given summary and causes. */
export function errorReply(status: number, summary: string, causes: ErrorCause[] = []): Reply {
  const error = causes.length === 0
    ? { errorSummary: summary }
    : { errorSummary: summary, errorCauses: causes };
  return { status, body: JSON.stringify({ error }) };
}

/** One `errorCauses` entry located in the request body. */
export function cause(summary: string, reason: string, location: string): ErrorCause {
  return { errorSummary: summary, reason, locationType: "body", location, domain: ERROR_DOMAIN };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
