/**
 * The facts of one import hook call that the resolution needs, read out of a parsed request.
 */

import type { BodyProblem, HookRequest } from "./hook_schema.ts";
import { MAX_LOGIN_LENGTH } from "./candidates.ts";
import { importOwner } from "./owner.ts";
import type { OwnerSource } from "./records.ts";

/** What one hook call asks about, with Okta's nulls and absences folded together. */
export interface HookEvent {
  readonly eventId: string;
  readonly jobId: string | null;
  readonly appId: string | null;
  /** `data.action.result`: `CREATE_USER`, `LINK_USER`, or whatever Okta sent. */
  readonly action: string | null;
  /** The login Okta means to give the user (`data.user.profile.login`). */
  readonly login: string | null;
  /** Whether Okta listed `login` in `data.context.conflicts`. */
  readonly oktaReportsConflict: boolean;
  /** Stable identity of the imported person: same person, same owner, across import runs. */
  readonly owner: string;
  /** The owner attribute's value, as recorded in the audit (`external_id`). */
  readonly externalId: string | null;
  readonly ownerSource: OwnerSource;
  /** Which owner attribute held `externalId` (the first of the list present), or `null`. */
  readonly ownerAttribute: string | null;
  readonly middleName: string | null;
  /** The matched Okta user, on `LINK_USER`. */
  readonly oktaUserId: string | null;
  /**
   * The incoming user's `PERSON_ATTRIBUTE` value, read from `data.user.profile` (after Okta's
   * mappings), or `null` when unset or absent.
   */
  readonly person: string | null;
}

/** Which profile attributes to read. */
export interface EventAttributes {
  /** App user attributes that may hold the user's id in the source, in order: the first present wins. */
  readonly ownerAttributes: readonly string[];
  readonly middleNameAttribute: string;
  /** The Okta user profile attribute identifying a person across accounts, if any. */
  readonly personAttribute?: string | null;
}

/** Result of {@link readHookEvent}: the event, or why a value in it cannot be used. */
export type EventResult =
  | { readonly ok: true; readonly event: HookEvent }
  | { readonly ok: false; readonly problems: readonly BodyProblem[] };

/** Longest owner attribute value, app user id or Okta user id accepted. */
export const MAX_ID_LENGTH = 256;
/** Longest middle name accepted: a name, not a document. */
export const MAX_MIDDLE_NAME_LENGTH = 200;

/**
 * Reads the facts out of a request and checks every value that becomes a key or is stored: it
 * must be well-formed Unicode (a lone surrogate would be stored as U+FFFD and two ids would
 * become one) and, for logins and ids, hold no control character (SQLite text reads back cut at
 * a NUL). A login longer than Okta's 100 characters can never be valid.
 */
export function readHookEvent(request: HookRequest, attributes: EventAttributes): EventResult {
  const event = hookEvent(request, attributes);
  const problems = eventProblems(event, attributes, present(request.data.appUser?.id));
  return problems.length === 0 ? { ok: true, event } : { ok: false, problems };
}

/** The problems of `event`'s values (and the app user's id), each located where it came from. */
function eventProblems(
  event: HookEvent,
  attributes: EventAttributes,
  appUserId: string | null,
): BodyProblem[] {
  const problems: BodyProblem[] = [];
  const check = (value: string | null, location: string, max: number, controls: boolean) => {
    const summary = textProblem(value, max, controls);
    if (summary !== null) problems.push({ summary, reason: "INVALID_PAYLOAD", location });
  };
  check(event.eventId, "eventId", 200, true);
  check(event.jobId, "data.context.job.id", MAX_ID_LENGTH, true);
  check(event.appId, "data.context.application.id", MAX_ID_LENGTH, true);
  check(event.action, "data.action.result", 100, true);
  check(event.login, "data.user.profile.login", MAX_LOGIN_LENGTH, true);
  if (event.ownerAttribute !== null) {
    check(event.externalId, profilePath("appUser", event.ownerAttribute), MAX_ID_LENGTH, true);
  }
  check(appUserId, "data.appUser.id", MAX_ID_LENGTH, true);
  check(
    event.middleName,
    profilePath("appUser", attributes.middleNameAttribute),
    MAX_MIDDLE_NAME_LENGTH,
    false,
  );
  check(event.oktaUserId, "data.user.id", MAX_ID_LENGTH, true);
  if (attributes.personAttribute) {
    check(event.person, profilePath("user", attributes.personAttribute), MAX_ID_LENGTH, true);
  }
  return problems;
}

// C0 and C1 controls, DEL, and the line and paragraph separators: what the check is for.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Why `value` cannot be stored as it is, or `null` when it can. */
export function textProblem(value: string | null, max: number, controls: boolean): string | null {
  if (value === null) return null;
  if (!value.isWellFormed()) return "Holds a lone surrogate: not well-formed Unicode";
  if (controls && CONTROL.test(value)) return "Holds a control character";
  if (value.length > max) return `Longer than ${max} characters`;
  return null;
}

function profilePath(user: "appUser" | "user", attribute: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(attribute)
    ? `data.${user}.profile.${attribute}`
    : `data.${user}.profile[${JSON.stringify(attribute)}]`;
}

/**
 * The facts of a request, unchecked. The owner is the source app's id plus the app user's unique
 * id, taken from the first of the owner attributes present in `appUser.profile`; when none is,
 * from `data.appUser.id`; when that is absent too, the event itself owns the login, so a re-run
 * cannot reuse it.
 */
function hookEvent(request: HookRequest, attributes: EventAttributes): HookEvent {
  const { context, action, appUser, user } = request.data;
  const appId = present(context?.application?.id);
  let ownerAttribute: string | null = null;
  let ownerValue: string | null = null;
  for (const name of attributes.ownerAttributes) {
    ownerValue = scalar(own(appUser?.profile, name));
    if (ownerValue !== null) {
      ownerAttribute = name;
      break;
    }
  }
  const appUserId = present(appUser?.id);
  const [ownerSource, ownerId]: [OwnerSource, string] = ownerValue !== null
    ? ["attribute", ownerValue]
    : appUserId !== null
    ? ["app_user_id", appUserId]
    : ["event", request.eventId];
  const owner = importOwner(ownerSource, { appId, attribute: ownerAttribute ?? "", id: ownerId });
  return {
    eventId: request.eventId,
    jobId: present(context?.job?.id),
    appId,
    action: present(action?.result),
    login: scalar(own(user?.profile, "login")),
    oktaReportsConflict: (context?.conflicts ?? []).includes("login"),
    owner,
    externalId: ownerValue,
    ownerSource,
    ownerAttribute,
    middleName: scalar(own(appUser?.profile, attributes.middleNameAttribute)) ??
      scalar(own(user?.profile, "middleName")),
    oktaUserId: present(user?.id),
    person: attributes.personAttribute
      ? scalar(own(user?.profile, attributes.personAttribute))
      : null,
  };
}

/** A profile value by own key only: a `__proto__` key in the JSON must not reach the prototype. */
function own(profile: Record<string, unknown> | null | undefined, key: string): unknown {
  return profile && Object.hasOwn(profile, key) ? profile[key] : undefined;
}

/** A string (trimmed) or finite number as text; anything else, or blank, is `null`. */
function scalar(value: unknown): string | null {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return typeof value === "string" ? present(value) : null;
}

function present(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? null : trimmed;
}
