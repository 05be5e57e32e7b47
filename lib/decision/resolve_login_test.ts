import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import type { StrategyName } from "../config.ts";
import type { HookEvent } from "./hook_event.ts";
import { LoginIndex, sqlitePort } from "../store/sqlite_login_index.ts";
import type { Reservation } from "./records.ts";
import { resolveLogin } from "./resolve_login.ts";
import { hookEvent, reservation, withIndex } from "../../tests/_test_utils.ts";

const AT = "2026-03-02T08:00:00.000Z";
const ALL: StrategyName[] = ["middle_name", "middle_initial", "numeric_suffix"];
const OWNER = JSON.stringify(["0oaApp", "externalId", "E1"]);
const OTHER = JSON.stringify(["0oaApp", "externalId", "E2"]);

function event(fields: Partial<HookEvent> = {}): HookEvent {
  return hookEvent(fields);
}

function resolve(index: LoginIndex, e: HookEvent, strategies: StrategyName[] = ALL) {
  return resolveLogin(e, sqlitePort(index), { strategies, at: AT });
}

function take(index: LoginIndex, login: string, fields: Partial<Reservation> = {}): void {
  index.reserve(reservation(login, { at: AT, ...fields }));
}

function rows(db: DatabaseSync) {
  return db.prepare(
    `SELECT login, owner, requested_key AS requestedKey, strategy, source, event_id AS eventId
     FROM logins ORDER BY login`,
  ).all().map((row) => ({ ...row }));
}

Deno.test("resolveLogin() skips actions other than CREATE_USER and reserves nothing", async () => {
  await withIndex((index, db) => {
    assert.deepEqual(resolve(index, event({ action: "UPDATE_USER" })), {
      outcome: "skipped",
      reason: "Action UPDATE_USER is left to Okta; only CREATE_USER is resolved",
    });
    assert.deepEqual(resolve(index, event({ action: null })), {
      outcome: "skipped",
      reason: "Action (none) is left to Okta; only CREATE_USER is resolved",
    });
    assert.deepEqual(resolve(index, event({ login: null })), {
      outcome: "skipped",
      reason: "Action CREATE_USER is left to Okta; only CREATE_USER is resolved",
    });
    assert.deepEqual(rows(db), []);
  });
});

Deno.test("resolveLogin() notes a LINK_USER login as held by the linked Okta user", async () => {
  await withIndex((index, db) => {
    const link = event({ action: "LINK_USER", oktaUserId: "00u1", login: "ana@example.com" });
    assert.deepEqual(resolve(index, link), {
      outcome: "skipped",
      reason: "Action LINK_USER is left to Okta; only CREATE_USER is resolved",
    });
    // Without an Okta user id there is no holder to note.
    resolve(index, event({ action: "LINK_USER", oktaUserId: null, login: "bo@example.com" }));
    // A login already in the index keeps its holder.
    take(index, "cy@example.com", { owner: OTHER });
    resolve(index, event({ action: "LINK_USER", oktaUserId: "00u2", login: "CY@example.com" }));
    assert.deepEqual(rows(db), [
      {
        login: "ana@example.com",
        owner: '["okta","00u1"]',
        requestedKey: null,
        strategy: "linked",
        source: "link",
        eventId: "evt-1",
      },
      {
        login: "cy@example.com",
        owner: OTHER,
        requestedKey: null,
        strategy: "seed",
        source: "seed",
        eventId: null,
      },
    ]);
  });
});

Deno.test("resolveLogin() keeps a free login unchanged and reserves it for the owner", async () => {
  await withIndex((index, db) => {
    assert.deepEqual(resolve(index, event()), {
      outcome: "unchanged",
      login: "john.smith@example.com",
      reused: false,
    });
    assert.deepEqual(rows(db), [{
      login: "john.smith@example.com",
      owner: OWNER,
      requestedKey: "john.smith@example.com",
      strategy: "unchanged",
      source: "hook",
      eventId: "evt-1",
    }]);
  });
});

Deno.test("resolveLogin() gives an owner seen before the same unchanged login again", async () => {
  await withIndex((index, db) => {
    resolve(index, event());
    assert.deepEqual(resolve(index, event({ eventId: "evt-2", middleName: null })), {
      outcome: "unchanged",
      login: "john.smith@example.com",
      reused: true,
    });
    assert.equal(rows(db).length, 1);
  });
});

Deno.test("resolveLogin() keeps a login the index already holds for the same owner", async () => {
  await withIndex((index, db) => {
    // Held by this owner but not recorded as asked for (no requested key): found by login.
    take(index, "john.smith@example.com", { owner: OWNER });
    assert.deepEqual(resolve(index, event()), {
      outcome: "unchanged",
      login: "john.smith@example.com",
      reused: true,
    });
    assert.equal(rows(db).length, 1);
  });
});

Deno.test("resolveLogin() infixes the middle name when the index holds the login for someone else", async () => {
  await withIndex((index, db) => {
    take(index, "john.smith@example.com");
    assert.deepEqual(resolve(index, event()), {
      outcome: "resolved",
      holder: null,
      original: "john.smith@example.com",
      login: "john.alexander.smith@example.com",
      strategy: "middle_name",
      reused: false,
      reason: "The login index holds the login for another user",
    });
    assert.deepEqual(rows(db)[0], {
      login: "john.alexander.smith@example.com",
      owner: OWNER,
      requestedKey: "john.smith@example.com",
      strategy: "middle_name",
      source: "hook",
      eventId: "evt-1",
    });
  });
});

Deno.test("resolveLogin() records the Okta status of the account holding a conflicting login", async () => {
  await withIndex((index, db) => {
    take(index, "john.smith@example.com", { owner: '["okta","00uOld"]', source: "sync" });
    db.exec("UPDATE logins SET okta_user_id = '00uOld', okta_status = 'DEPROVISIONED'");
    const resolved = resolve(index, event({ oktaReportsConflict: true }));
    assert.equal(resolved.outcome, "resolved");
    assert.deepEqual("holder" in resolved && resolved.holder, {
      status: "DEPROVISIONED",
      oktaUserId: "00uOld",
    });
    // Unresolved too: the admin may reactivate the old account instead.
    const stuck = resolve(
      index,
      event({ eventId: "evt-2", owner: OTHER, middleName: null }),
      ["middle_name"],
    );
    assert.equal(stuck.outcome, "unresolved");
    assert.deepEqual("holder" in stuck && stuck.holder, {
      status: "DEPROVISIONED",
      oktaUserId: "00uOld",
    });
  });
});

Deno.test("resolveLogin() records a login Okta reports taken as held by no owner", async () => {
  await withIndex((index, db) => {
    assert.deepEqual(resolve(index, event({ oktaReportsConflict: true })), {
      outcome: "resolved",
      holder: null,
      original: "john.smith@example.com",
      login: "john.alexander.smith@example.com",
      strategy: "middle_name",
      reused: false,
      reason: "Okta reported the login taken",
    });
    assert.deepEqual(rows(db)[1], {
      login: "john.smith@example.com",
      owner: null,
      requestedKey: null,
      strategy: "okta_conflict",
      source: "okta_conflict",
      eventId: "evt-1",
    });
  });
});

Deno.test("resolveLogin() disowns the owner's own login when Okta reports it taken", async () => {
  await withIndex((index, db) => {
    take(index, "john.smith@example.com", { owner: OWNER, strategy: "unchanged", source: "hook" });
    const result = resolve(index, event({ oktaReportsConflict: true }));
    assert.equal(result.outcome, "resolved");
    assert.equal(result.outcome === "resolved" && result.login, "john.alexander.smith@example.com");
    assert.deepEqual(rows(db)[1], {
      login: "john.smith@example.com",
      owner: null,
      requestedKey: null,
      strategy: "unchanged",
      source: "okta_conflict",
      eventId: null,
    });
  });
});

Deno.test("resolveLogin() moves an owner off its earlier login when Okta now reports it taken", async () => {
  await withIndex((index, db) => {
    resolve(index, event());
    const result = resolve(index, event({ eventId: "evt-2", oktaReportsConflict: true }));
    assert.deepEqual(result, {
      outcome: "resolved",
      holder: null,
      original: "john.smith@example.com",
      login: "john.alexander.smith@example.com",
      strategy: "middle_name",
      reused: false,
      reason: "Okta reported the login taken",
    });
    assert.deepEqual(rows(db).map((r) => [r.login, r.owner, r.source]), [
      ["john.alexander.smith@example.com", OWNER, "hook"],
      ["john.smith@example.com", null, "okta_conflict"],
    ]);
  });
});

Deno.test("resolveLogin() gives a re-run owner the login it was given before", async () => {
  await withIndex((index, db) => {
    take(index, "john.smith@example.com");
    resolve(index, event());
    // Next run: another event, another middle name; same person.
    assert.deepEqual(resolve(index, event({ eventId: "evt-2", middleName: "Zed" })), {
      outcome: "resolved",
      holder: null,
      original: "john.smith@example.com",
      login: "john.alexander.smith@example.com",
      strategy: "middle_name",
      reused: true,
      reason: "The owner was given this login by an earlier decision",
    });
    assert.equal(rows(db).length, 2);
  });
});

// The owner's requested login is stored folded, as findForOwner() looks it up.
Deno.test("resolveLogin() gives a re-run owner its earlier login when the login has capitals", async () => {
  await withIndex((index, db) => {
    take(index, "john.smith@example.com");
    const first = resolve(index, event({ login: "John.Smith@Example.com" }));
    assert.equal(first.outcome === "resolved" && first.login, "John.alexander.Smith@Example.com");
    const again = resolve(index, event({ eventId: "evt-2", login: "John.Smith@Example.com" }));
    assert.deepEqual(again, {
      outcome: "resolved",
      holder: null,
      original: "John.Smith@Example.com",
      login: "John.alexander.Smith@Example.com",
      strategy: "middle_name",
      reused: true,
      reason: "The owner was given this login by an earlier decision",
    });
    assert.equal(rows(db).length, 2);
  });
});

Deno.test("resolveLogin() does not reuse by owner when the event itself is the owner", async () => {
  await withIndex((index, db) => {
    const owner = JSON.stringify(["event", "evt-1"]);
    take(index, "john.alexander.smith@example.com", {
      owner,
      requestedKey: "john.smith@example.com",
      strategy: "middle_name",
      source: "hook",
    });
    assert.deepEqual(resolve(index, event({ owner, ownerSource: "event", externalId: null })), {
      outcome: "unchanged",
      login: "john.smith@example.com",
      reused: false,
    });
    assert.equal(rows(db).length, 2);
  });
});

Deno.test("resolveLogin() tries the middle initial when the middle-name login is taken", async () => {
  await withIndex((index) => {
    take(index, "john.smith@example.com");
    take(index, "John.Alexander.Smith@example.com");
    assert.deepEqual(resolve(index, event()), {
      outcome: "resolved",
      holder: null,
      original: "john.smith@example.com",
      login: "john.a.smith@example.com",
      strategy: "middle_initial",
      reused: false,
      reason: "The login index holds the login for another user",
    });
  });
});

Deno.test("resolveLogin() falls back to a numeric suffix when every middle-name login is taken", async () => {
  await withIndex((index, db) => {
    for (const login of ["john.smith", "john.alexander.smith", "john.a.smith", "john.smith2"]) {
      take(index, `${login}@example.com`);
    }
    assert.deepEqual(resolve(index, event()), {
      outcome: "resolved",
      holder: null,
      original: "john.smith@example.com",
      login: "john.smith3@example.com",
      strategy: "numeric_suffix",
      reused: false,
      reason: "The login index holds the login for another user",
    });
    assert.equal(
      rows(db).find((r) => r.login === "john.smith3@example.com")?.strategy,
      "numeric_suffix",
    );
  });
});

Deno.test("resolveLogin() leaves the event unresolved with one problem per strategy, in strategy order", async () => {
  await withIndex((index, db) => {
    take(index, "john.smith@example.com");
    take(index, "john.alexander.smith@example.com");
    take(index, "john.a.smith@example.com");
    const strategies: StrategyName[] = ["middle_initial", "middle_name"];
    assert.deepEqual(resolve(index, event(), strategies), {
      outcome: "unresolved",
      holder: null,
      original: "john.smith@example.com",
      reason: "The login index holds the login for another user",
      problems: [
        {
          strategy: "middle_initial",
          reason: "TAKEN",
          summary: '"john.a.smith@example.com" is taken too',
        },
        {
          strategy: "middle_name",
          reason: "TAKEN",
          summary: '"john.alexander.smith@example.com" is taken too',
        },
      ],
    });
    // Nothing new reserved.
    assert.equal(rows(db).length, 3);
  });
});

Deno.test("resolveLogin() reports a missing middle name and a login too long for a number", async () => {
  await withIndex((index) => {
    const login = `${"j".repeat(64)}@example.com`;
    take(index, login);
    const result = resolve(
      index,
      event({ login, middleName: null }),
      ["numeric_suffix", "middle_name"],
    );
    assert.deepEqual(result, {
      outcome: "unresolved",
      holder: null,
      original: login,
      reason: "The login index holds the login for another user",
      problems: [
        {
          strategy: "numeric_suffix",
          reason: "TOO_LONG",
          summary: `"${login.slice(0, 40)}…" with a number appended is too long`,
        },
        {
          strategy: "middle_name",
          reason: "MISSING_MIDDLE_NAME",
          summary: "No middle name in the app user or Okta user profile",
        },
      ],
    });
  });
});

Deno.test("resolveLogin() reports a login that is not an email address", async () => {
  await withIndex((index) => {
    take(index, "jsmith");
    assert.deepEqual(resolve(index, event({ login: "jsmith" })), {
      outcome: "unresolved",
      holder: null,
      original: "jsmith",
      reason: "The login index holds the login for another user",
      problems: [
        {
          strategy: "middle_name",
          reason: "NOT_EMAIL_SHAPED",
          summary: '"jsmith" is not an email address',
        },
        {
          strategy: "middle_initial",
          reason: "NOT_EMAIL_SHAPED",
          summary: '"jsmith" is not an email address',
        },
        {
          strategy: "numeric_suffix",
          reason: "NOT_EMAIL_SHAPED",
          summary: '"jsmith" is not an email address',
        },
      ],
    });
  });
});

Deno.test("resolveLogin() with PERSON_MATCH judges a conflict: unverified without both values, no link without the holder's Okta id", async () => {
  await withIndex((index) => {
    take(index, "john.smith@example.com", { owner: OTHER, person: "N-1" });
    const act = { strategies: ALL, at: AT, personMatch: "act" as const };
    // The same person, but the index knows no Okta user to link to: resolved as ever, judged.
    const same = resolveLogin(hookEvent({ eventId: "e1", person: "n-1 " }), sqlitePort(index), act);
    assert.equal(same.outcome, "resolved");
    assert.deepEqual(same.outcome === "resolved" && same.person, {
      match: "same",
      incoming: "n-1 ",
      holder: "N-1",
      holderOktaUserId: null,
      action: null,
    });
    // No incoming value: unverified, and today's answer.
    const unknown = resolveLogin(
      hookEvent({ eventId: "e2", owner: JSON.stringify(["0oaApp", "externalId", "E3"]) }),
      sqlitePort(index),
      act,
    );
    assert.equal(unknown.outcome === "resolved" && unknown.person?.match, "unverified");
  });
});

Deno.test("resolveLogin() with PERSON_MATCH notes a right link with the person, and leaves it to Okta", async () => {
  await withIndex((index, db) => {
    const link = hookEvent({ action: "LINK_USER", oktaUserId: "00uM", person: "N-7" });
    const resolution = resolveLogin(link, sqlitePort(index), {
      strategies: ALL,
      at: AT,
      personMatch: "act",
    });
    assert.equal(resolution.outcome, "skipped");
    // Nothing known of the linked user yet: unverified, and the login is noted as theirs,
    // without claiming the incoming value for them.
    assert.equal(resolution.outcome === "skipped" && resolution.person?.match, "unverified");
    const row = db.prepare("SELECT owner, person FROM logins").get();
    assert.deepEqual({ ...row }, { owner: JSON.stringify(["okta", "00uM"]), person: null });
  });
});
