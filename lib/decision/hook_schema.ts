/**
 * The shape of Okta's user import hook request, checked with zod where the service relies on it
 * and open everywhere else: Okta adds fields over time, and profiles hold any JSON value.
 */

import { z } from "zod";
import { messageOf } from "../log.ts";
import { quote } from "./quote.ts";

/** The only event type this endpoint accepts. */
export const IMPORT_EVENT_TYPE = "com.okta.import.transform";

const text = z.string().nullish();
const profile = z.record(z.string(), z.unknown()).nullish();

/** zod schema of the request body. */
export const hookRequestSchema = z.looseObject({
  eventType: z.literal(IMPORT_EVENT_TYPE, {
    error: (issue) =>
      issue.input === undefined
        ? "Required"
        : typeof issue.input === "string"
        ? `Expected "${IMPORT_EVENT_TYPE}", got ${quote(issue.input)}`
        : `Expected "${IMPORT_EVENT_TYPE}", got ${
          issue.input === null ? "null" : typeof issue.input
        }`,
  }),
  eventId: z.string({ error: (issue) => issue.input === undefined ? "Required" : undefined })
    .min(1, "Must not be empty").max(200, "Longer than 200 characters"),
  eventTime: text,
  source: text,
  data: z.looseObject({
    context: z.looseObject({
      conflicts: z.array(z.unknown()).nullish(),
      application: z.looseObject({ id: text, name: text, label: text }).nullish(),
      job: z.looseObject({ id: text, type: text }).nullish(),
    }).nullish(),
    action: z.looseObject({ result: text }).nullish(),
    appUser: z.looseObject({ id: text, profile }).nullish(),
    user: z.looseObject({ id: text, profile }).nullish(),
  }, { error: (issue) => issue.input === undefined ? "Required" : undefined }),
}).superRefine((request, ctx) => {
  if (request.data.action?.result !== "CREATE_USER") return;
  const login = request.data.user?.profile?.["login"];
  if (typeof login !== "string" || login.trim() === "") {
    ctx.addIssue({
      code: "custom",
      path: ["data", "user", "profile", "login"],
      message: login === undefined || login === null
        ? "Required when data.action.result is CREATE_USER"
        : "Must be a non-empty string",
    });
  }
});

/** A parsed, schema-checked import hook request. */
export type HookRequest = z.infer<typeof hookRequestSchema>;

/** One problem with a request body; becomes an Okta `errorCauses` entry. */
export interface BodyProblem {
  readonly summary: string;
  readonly reason: "INVALID_JSON" | "INVALID_PAYLOAD";
  /** JSON path of the offending value, `""` for the whole body. */
  readonly location: string;
}

/** Result of {@link parseHookRequest}. */
export type ParseResult =
  | { readonly ok: true; readonly value: HookRequest }
  | { readonly ok: false; readonly summary: string; readonly problems: readonly BodyProblem[] };

/** Parses and checks a request body; never throws. */
export function parseHookRequest(body: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return {
      ok: false,
      summary: "Request body is not valid JSON",
      problems: [{ summary: jsonErrorDetail(error, body), reason: "INVALID_JSON", location: "" }],
    };
  }
  const result = hookRequestSchema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    summary: "Request body is not a valid import hook request",
    problems: result.error.issues.map((issue) => ({
      summary: issue.message,
      reason: "INVALID_PAYLOAD",
      location: jsonPath(issue.path),
    })),
  };
}

/**
 * Where JSON.parse stopped, without the text around it: V8's message quotes the body, which may
 * hold personal data and is as long as the sender likes.
 */
function jsonErrorDetail(error: unknown, body: string): string {
  if (body.trim() === "") return "The body is empty";
  const position = /at position (\d+)/.exec(messageOf(error))?.[1];
  if (/Unexpected end of JSON input|Unterminated/.test(messageOf(error))) {
    return "The JSON text ends too early";
  }
  return position === undefined
    ? "A JSON syntax error"
    : `A JSON syntax error at character ${Number(position) + 1}`;
}

/** `["data", "context", "conflicts", 0]` -> `data.context.conflicts[0]`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    const name = String(key);
    const safe = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
    return out === "" ? name : /^[A-Za-z_$]/.test(safe) ? `${out}.${safe}` : `${out}[${safe}]`;
  }, "");
}
