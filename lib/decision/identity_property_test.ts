/**
 * The service's promise as a property: for any sequence of requests (people, logins, Okta's
 * conflict reports, retries, reused eventIds, links), no login is ever answered to two owners, and
 * every login answered is held by the owner it was answered to. Sequences come from a seeded
 * generator, so a failure names the seed that reproduces it.
 */

import assert from "node:assert/strict";
import { decideEvent } from "./decide_event.ts";
import type { HookEvent } from "./hook_event.ts";
import { loginKey } from "./fold_name.ts";
import { LoginIndex, sqlitePort } from "../store/sqlite_login_index.ts";
import { AuditLog } from "../store/sqlite_audit.ts";
import { hookEvent, withDatabase } from "../../tests/_test_utils.ts";
import { seededRandom } from "../../bench/_okta_load.ts";

const STRATEGIES = ["middle_name", "middle_initial", "numeric_suffix"] as const;

const LOGINS = ["john.smith@x.com", "John.Smith@X.com", "jöhn.smith@x.com", "ann.lee@x.com"];
const MIDDLES = ["Alexander", "Alex", null, "Ann"];

/** One generated request: mostly new events, sometimes a retry or a reused eventId. */
function generate(next: () => number, n: number, earlier: HookEvent[]): HookEvent {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const roll = next();
  if (roll < 0.1 && earlier.length > 0) return pick(earlier); // Okta's retry: the same call
  const person = Math.floor(next() * 6);
  const event = hookEvent({
    eventId: roll < 0.2 && earlier.length > 0 ? pick(earlier).eventId : `e${n}`,
    jobId: `job${Math.floor(n / 20)}`,
    action: next() < 0.1 ? "LINK_USER" : "CREATE_USER",
    login: pick(LOGINS),
    oktaReportsConflict: next() < 0.3,
    owner: next() < 0.1
      ? JSON.stringify(["event", `e${n}`])
      : JSON.stringify(["0oaApp", "externalId", `P${person}`]),
    ownerSource: "attribute",
    externalId: `P${person}`,
    middleName: pick(MIDDLES),
    oktaUserId: `00u${person}`,
  });
  return event;
}

Deno.test("no login is ever answered to two owners, and every login answered is its owner's", async () => {
  for (let seed = 1; seed <= 25; seed++) {
    await withDatabase("property-", (db) => {
      const index = new LoginIndex(db);
      const port = sqlitePort(index, new AuditLog(db));
      const answeredTo = new Map<string, string>();
      const earlier: HookEvent[] = [];
      const next = seededRandom(seed);
      for (let n = 0; n < 150; n++) {
        const event = generate(next, n, earlier);
        earlier.push(event);
        const personMatch = n % 2 === 0 ? "report" : "off";
        const decided = decideEvent(
          event,
          port,
          STRATEGIES,
          {
            receivedAt: "2026-03-02T08:00:00.000Z",
            elapsedMs: 0,
          },
          () => 0,
          personMatch,
        );
        const body = decided.reply.body === null ? null : JSON.parse(decided.reply.body);
        const given: string | undefined = body?.commands?.[0]?.value?.login ??
          (decided.outcome === "unchanged" ? event.login ?? undefined : undefined);
        if (given === undefined) continue;
        const key = loginKey(given);
        const where = `seed ${seed}, request ${n}: ${given}`;
        // A replay too: a stored answer sent to another person would hand them someone's login.
        const first = answeredTo.get(key);
        assert.ok(first === undefined || first === event.owner, `${where} went to two owners`);
        answeredTo.set(key, event.owner);
        if (decided.replayed) continue;
        const holder = index.find(given);
        assert.equal(holder?.owner, event.owner, `${where} is not held by its owner`);
      }
    });
  }
});
