/**
 * Who is this person? Okta links an incoming user to an existing one when its matching rules
 * (email, first and last name) find one, and reports a conflict when the login is taken. Neither
 * says whether the two are one person. A profile attribute that identifies a person across
 * accounts (`PERSON_ATTRIBUTE`, e.g. employeeNumber) does: a link to someone with another value
 * is a wrong link, a conflict with someone with the same value is the person returning.
 */

import type { PersonAction, PersonJudgement, PersonMatch } from "./records.ts";

/** Whether `incoming` and `holder` are one person: unverified unless both are known. */
export function personMatch(incoming: string | null, holder: string | null): PersonMatch {
  if (incoming === null || holder === null) return "unverified";
  return samePerson(incoming, holder) ? "same" : "different";
}

/** Values compare trimmed and case-insensitively: an id typed `e123` and `E123` is one person. */
function samePerson(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** A judgement with what was found and what was done. */
export function judgement(
  incoming: string | null,
  holder: { readonly person?: string | null; readonly oktaUserId: string | null } | undefined,
  action: PersonAction | null,
): PersonJudgement {
  const held = holder?.person ?? null;
  return {
    match: personMatch(incoming, held),
    incoming,
    holder: held,
    holderOktaUserId: holder?.oktaUserId ?? null,
    action,
  };
}
