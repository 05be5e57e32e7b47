/**
 * Registering the import inline hook in Okta (Inline Hooks API): creates it, or replaces the
 * one with the same name so a new URL or a rotated secret can be pushed by running it again.
 */

import { IMPORT_EVENT_TYPE } from "../decision/hook_schema.ts";
import { OktaApiError, type OktaClient } from "./okta_api.ts";

/** The inline hook type Okta calls during an import: the event type of its requests. */
export const IMPORT_HOOK_TYPE = IMPORT_EVENT_TYPE;

/** The hook's name when none is given. */
export const DEFAULT_HOOK_NAME = "Import login de-duplication";

/** Okta's limits on a hook's URI and name. */
export const MAX_URI_LENGTH = 1024;
export const MAX_NAME_LENGTH = 255;

/** Okta's HTTP channel: a static secret in a header. */
export interface HeaderAuth {
  readonly type: "HEADER";
  /** The header Okta sends the secret in. */
  readonly header: string;
  /** The secret the service accepts; sent to Okta, never printed. */
  readonly secret: string;
}

/** Okta's OAUTH channel: Okta gets an access token with the client credentials grant. */
export type OAuthAuth =
  & {
    readonly type: "OAUTH";
    /** The API Services app Okta authenticates as. */
    readonly clientId: string;
    /** The custom authorization server's token endpoint. */
    readonly tokenUrl: string;
    /** The scope (or scopes, space-separated) Okta asks for. */
    readonly scope: string;
  }
  & (
    | { readonly authType: "client_secret_post"; readonly clientSecret: string }
    | { readonly authType: "private_key_jwt"; readonly hookKeyId: string }
  );

/** What to register. */
export interface HookRegistration {
  readonly name: string;
  /** The service's public HTTPS URL of the import endpoint. */
  readonly uri: string;
  /** How Okta authenticates its calls. */
  readonly auth: HeaderAuth | OAuthAuth;
}

/** The hook as Okta now has it. */
export interface RegisteredHook {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly action: "created" | "updated";
  /** Whether it was INACTIVE and has been activated. */
  readonly activated: boolean;
}

/** Why a `--url` cannot be registered, or `null` when it can. */
export function checkHookUri(uri: string): string | null {
  if (/\s/.test(uri)) return "it holds whitespace";
  if (uri.length > MAX_URI_LENGTH) return `it is longer than ${MAX_URI_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "it is not a URL";
  }
  if (url.protocol !== "https:") return "Okta calls hooks only over https://";
  if (url.username !== "" || url.password !== "") return "it holds a user name or password";
  return null;
}

/** Why a `--name` cannot be registered, or `null` when it can. */
export function checkHookName(name: string): string | null {
  if (name.trim() === "") return "it is empty";
  if (name.length > MAX_NAME_LENGTH) return `it is longer than ${MAX_NAME_LENGTH} characters`;
  return null;
}

/** The body of `POST /api/v1/inlineHooks` and `PUT /api/v1/inlineHooks/{id}`. */
export function inlineHookBody(hook: HookRegistration): Record<string, unknown> {
  const common = { uri: hook.uri, method: "POST", headers: [] };
  const { auth } = hook;
  const channel = auth.type === "HEADER"
    ? {
      type: "HTTP",
      version: "1.0.0",
      config: { ...common, authScheme: { type: "HEADER", key: auth.header, value: auth.secret } },
    }
    : {
      type: "OAUTH",
      version: "1.0.0",
      // authScheme must be null on an OAUTH channel.
      config: {
        ...common,
        authScheme: null,
        authType: auth.authType,
        clientId: auth.clientId,
        tokenUrl: auth.tokenUrl,
        scope: auth.scope,
        ...(auth.authType === "client_secret_post"
          ? { clientSecret: auth.clientSecret }
          : { hookKeyId: auth.hookKeyId }),
      },
    };
  return { name: hook.name, type: IMPORT_HOOK_TYPE, version: "1.0.0", channel };
}

/**
 * Creates the import hook, or replaces the one of this type with the same name (`PUT`), then
 * activates it if it was inactive. Throws {@link OktaApiError} when Okta refuses, and
 * `RangeError` when several hooks share the name (which one to replace is not ours to guess).
 */
export async function registerHook(
  okta: OktaClient,
  hook: HookRegistration,
): Promise<RegisteredHook> {
  const listed = await okta.request(
    "GET",
    `/api/v1/inlineHooks?type=${encodeURIComponent(IMPORT_HOOK_TYPE)}`,
  );
  if (!Array.isArray(listed.body)) {
    throw new OktaApiError(listed.status, "Okta listed the inline hooks as something not a list");
  }
  const same = listed.body.map(hookInfo).filter((h) => h !== null && h.name === hook.name);
  if (same.length > 1) {
    throw new RangeError(
      `${same.length} inline hooks are named "${hook.name}" ` +
        `(${same.map((h) => h!.id).join(", ")}): delete the extra ones in Okta or pass --name`,
    );
  }
  const existing = same[0] ?? null;
  const saved = existing === null
    ? await okta.request("POST", "/api/v1/inlineHooks", inlineHookBody(hook))
    : await okta.request(
      "PUT",
      `/api/v1/inlineHooks/${encodeURIComponent(existing.id)}`,
      inlineHookBody(hook),
    );
  let result = hookInfo(saved.body);
  if (result === null) {
    throw new OktaApiError(saved.status, "Okta's reply does not describe an inline hook");
  }
  let activated = false;
  if (result.status === "INACTIVE") {
    const reply = await okta.request(
      "POST",
      `/api/v1/inlineHooks/${encodeURIComponent(result.id)}/lifecycle/activate`,
    );
    result = hookInfo(reply.body) ?? { ...result, status: "ACTIVE" };
    activated = true;
  }
  return { ...result, action: existing === null ? "created" : "updated", activated };
}

function hookInfo(value: unknown): { id: string; name: string; status: string } | null {
  if (typeof value !== "object" || value === null) return null;
  const { id, name, status } = value as Record<string, unknown>;
  if (typeof id !== "string" || typeof name !== "string") return null;
  return { id, name, status: typeof status === "string" ? status : "UNKNOWN" };
}
