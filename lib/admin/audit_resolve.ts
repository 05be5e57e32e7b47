/**
 * `deno task audit resolve EVENT_ID --note TEXT`: marks a decision that needed a person handled.
 * The row stays; who, when and the note are added to it, and `summary` stops counting it.
 */

import { type EventDecision, markHandled } from "../store/audit_handled.ts";
import {
  type Context,
  nonEmpty,
  plural,
  printable,
  subcommandOptions,
  withDatabase,
} from "./audit_shared.ts";

/** Runs `audit resolve EVENT_ID ARGS`; resolves to the exit code. */
export function runResolve(args: string[], ctx: Context): number | Promise<number> {
  // The event id comes first; what follows are options (or --help alone).
  const eventId = args[0] !== undefined && !args[0].startsWith("-") ? args[0] : undefined;
  const parsed = subcommandOptions(
    eventId === undefined ? args : args.slice(1),
    { note: { type: "string" }, by: { type: "string" } },
    ctx,
    (values) => {
      if (eventId === undefined || eventId.trim() === "") {
        throw new TypeError("Expected the decision's event id: audit resolve EVENT_ID --note TEXT");
      }
      const note = nonEmpty(values.note, "--note");
      if (note === undefined) {
        throw new TypeError("Option --note is required: say what was done, for the audit");
      }
      const by = nonEmpty(values.by, "--by") ?? ctx.user;
      return { eventId, note, by };
    },
  );
  if (typeof parsed === "number") return parsed;
  const at = ctx.now().toISOString();
  return withDatabase(ctx, "write", async (db) => {
    const { marked, decisions } = await markHandled(db, parsed.eventId, { ...parsed, at });
    if (marked > 0) {
      ctx.terminal.out(
        `Marked ${plural(marked, "decision")} of event ${printable(parsed.eventId)} handled ` +
          `by ${printable(parsed.by)} at ${at}`,
      );
      return 0;
    }
    ctx.terminal.err(nothingMarked(parsed.eventId, decisions));
    return 1;
  });
}

/** Why nothing was marked, in one line. */
function nothingMarked(eventId: string, decisions: readonly EventDecision[]): string {
  const id = printable(eventId);
  if (decisions.length === 0) return `No decision has event id ${id} (see audit list)`;
  const handled = decisions.find((d) => d.needs_a_person === 1 && d.handled_at !== null);
  if (handled !== undefined) {
    return `The decision of event ${id} was already handled by ` +
      `${printable(handled.handled_by ?? "-")} at ${handled.handled_at}`;
  }
  const outcomes = [...new Set(decisions.map((d) => d.outcome))].join(", ");
  return `The decision of event ${id} (${outcomes}) needs no person: only an unresolved one, ` +
    "or one judged by PERSON_ATTRIBUTE or held by a deactivated account, is marked handled";
}
