/**
 * The settings that say who a person is: where an imported user's id is (`OWNER_ATTRIBUTE`), the
 * attribute that identifies a person across accounts (`PERSON_ATTRIBUTE`), and what is done
 * about it (`PERSON_MATCH`). The service, `sync`, `seed` and `preview` read them alike.
 */

import { ATTRIBUTE_NAME, ConfigError, optional } from "./config_error.ts";

/** How links and returning people are judged: not at all, recorded only, or acted on. */
export type PersonMatchMode = "off" | "report" | "act";

/** The variables read here. */
type IdentityEnv = Readonly<
  Partial<Record<"OWNER_ATTRIBUTE" | "PERSON_ATTRIBUTE" | "PERSON_MATCH", string>>
>;

/**
 * The owner attributes tried when `OWNER_ATTRIBUTE` is not set: `employeeId` (HR sources, and
 * this service's earlier default, so existing owners keep their keys), `externalId` (Okta's
 * published import hook sample, and SCIM's id of a user in its source), `employeeNumber` (Okta's
 * base user profile attribute for it).
 */
export const DEFAULT_OWNER_ATTRIBUTES = ["employeeId", "externalId", "employeeNumber"] as const;

/** `OWNER_ATTRIBUTE`: the ordered list of app user attributes that may hold the owner's id. */
export function ownerAttributes(env: IdentityEnv): string[] {
  const text = optional(env, "OWNER_ATTRIBUTE");
  if (text === undefined) return [...DEFAULT_OWNER_ATTRIBUTES];
  const names = text.split(",").map((name) => name.trim()).filter((name) => name !== "");
  for (const name of names) {
    if (!ATTRIBUTE_NAME.test(name)) {
      throw new ConfigError(
        "OWNER_ATTRIBUTE",
        `Cannot read OWNER_ATTRIBUTE: "${name}" is not an attribute`,
      );
    }
  }
  if (new Set(names).size !== names.length) {
    throw new ConfigError(
      "OWNER_ATTRIBUTE",
      `Cannot read OWNER_ATTRIBUTE: "${text}" names an attribute twice`,
    );
  }
  return names;
}

/** `PERSON_ATTRIBUTE`, checked as the service checks it (the sync and seed read it too). */
export function readPersonAttribute(
  env: Readonly<{ PERSON_ATTRIBUTE?: string }>,
): string | null {
  const text = optional(env, "PERSON_ATTRIBUTE");
  if (text === undefined) return null;
  if (!ATTRIBUTE_NAME.test(text)) {
    throw new ConfigError(
      "PERSON_ATTRIBUTE",
      `Cannot read PERSON_ATTRIBUTE: "${text}" is not an attribute`,
    );
  }
  return text;
}

/** `PERSON_MATCH`: off, report or act (default report). */
export function personMatchMode(env: IdentityEnv): PersonMatchMode {
  const text = optional(env, "PERSON_MATCH")?.toLowerCase() ?? "report";
  if (text !== "off" && text !== "report" && text !== "act") {
    throw new ConfigError(
      "PERSON_MATCH",
      `Cannot read PERSON_MATCH: "${text}" is not off, report or act`,
    );
  }
  return text;
}
