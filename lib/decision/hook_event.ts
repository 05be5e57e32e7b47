/**
 * The facts of one import hook call that the resolution needs, read out of a parsed request.
 */

import type { HookRequest } from "./hook_schema.ts";
import { importOwner, type OwnerSource } from "./owner.ts";

export type { OwnerSource } from "./owner.ts";

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
  readonly middleName: string | null;
  /** The matched Okta user, on `LINK_USER`. */
  readonly oktaUserId: string | null;
}

/** Which profile attributes to read. */
export interface EventAttributes {
  readonly ownerAttribute: string;
  readonly middleNameAttribute: string;
}

/**
 * Reads the facts out of a request. The owner is the source app's id plus the app user's unique
 * id, taken from `appUser.profile[ownerAttribute]`; when that is absent, from `data.appUser.id`;
 * when that is absent too, the event itself owns the login, so a re-run cannot reuse it.
 */
export function readHookEvent(request: HookRequest, attributes: EventAttributes): HookEvent {
  const { context, action, appUser, user } = request.data;
  const appId = present(context?.application?.id);
  const ownerValue = scalar(own(appUser?.profile, attributes.ownerAttribute));
  const appUserId = present(appUser?.id);
  const [ownerSource, ownerId]: [OwnerSource, string] = ownerValue !== null
    ? ["attribute", ownerValue]
    : appUserId !== null
    ? ["app_user_id", appUserId]
    : ["event", request.eventId];
  const owner = importOwner(ownerSource, {
    appId,
    attribute: attributes.ownerAttribute,
    id: ownerId,
  });
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
    middleName: scalar(own(appUser?.profile, attributes.middleNameAttribute)) ??
      scalar(own(user?.profile, "middleName")),
    oktaUserId: present(user?.id),
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
