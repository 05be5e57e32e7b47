/**
 * Owner keys: who holds a login in the index. Every format is built here, so the index, the sync
 * and the audit agree on them. A key is a JSON array, so no value can forge another's prefix.
 */

import type { OwnerSource } from "./records.ts";

/**
 * The owner of an imported user: the source app's id plus the app user's unique id, read from
 * the owner attribute (`attribute`) or `data.appUser.id` (`app_user_id`). With neither, the event
 * itself (`event`): nobody can be recognised by a later run.
 */
export function importOwner(
  source: OwnerSource,
  parts: { readonly appId: string | null; readonly attribute: string; readonly id: string },
): string {
  if (source === "event") return JSON.stringify(["event", parts.id]);
  return JSON.stringify([parts.appId, source === "attribute" ? parts.attribute : "#id", parts.id]);
}

/** The owner of a login an Okta user holds (a linked user, or one a sync listed). */
export function oktaUserOwner(oktaUserId: string): string {
  return JSON.stringify(["okta", oktaUserId]);
}
