import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { reservation, withIndex } from "../../tests/_test_utils.ts";

function counter(db: DatabaseSync, baseKey: string): number | undefined {
  const row = db.prepare("SELECT next_suffix FROM suffix_counters WHERE base_key = ?").get(baseKey);
  return row === undefined ? undefined : Number(row.next_suffix);
}

Deno.test("LoginIndex.find() ignores case and diacritics, as Okta does", async () => {
  await withIndex((index) => {
    index.reserve(reservation("Zoë.Darcy@Example.com", { owner: "o1", eventId: "evt-1" }));
    const expected = {
      loginKey: "zoe.darcy@example.com",
      oktaStatus: null,
      person: null,
      oktaUserId: null,
      login: "Zoë.Darcy@Example.com",
      owner: "o1",
      requestedKey: null,
      strategy: "seed",
      source: "seed",
    };
    assert.deepEqual({ ...index.find("zoe.darcy@example.com") }, expected);
    assert.deepEqual({ ...index.find("ZOË.DARCY@EXAMPLE.COM") }, expected);
    assert.deepEqual({ ...index.find("Zoe\u0308.Darcy@example.com") }, expected);
    assert.equal(index.find("zoe.darcy2@example.com"), undefined);
  });
});

Deno.test("LoginIndex.reserve() throws when the login is already taken in another spelling", async () => {
  await withIndex((index, db) => {
    index.reserve(reservation("john.smith@example.com", { owner: "first" }));
    assert.throws(
      () => index.reserve(reservation("JOHN.SMÍTH@example.com", { owner: "second" })),
      /UNIQUE constraint failed: logins\.login_key/,
    );
    assert.deepEqual(
      db.prepare("SELECT login, owner FROM logins").all().map((r) => ({ ...r })),
      [{ login: "john.smith@example.com", owner: "first" }],
    );
  });
});

Deno.test("LoginIndex.reserveIfFree() adds a free login and leaves a taken one to its holder", async () => {
  await withIndex((index) => {
    assert.equal(index.reserveIfFree(reservation("ana@example.com", { owner: "first" })), true);
    assert.equal(index.reserveIfFree(reservation("ANA@example.com", { owner: "second" })), false);
    assert.equal(index.find("ana@example.com")?.owner, "first");
    assert.equal(index.find("ana@example.com")?.login, "ana@example.com");
  });
});

Deno.test("LoginIndex.findForOwner() finds the login an owner got for a requested login", async () => {
  await withIndex((index) => {
    index.reserve(reservation("kim.soo.park@example.com", {
      owner: "owner-1",
      requestedKey: "kim.park@example.com",
      strategy: "middle_name",
      source: "hook",
    }));
    assert.deepEqual({ ...index.findForOwner("owner-1", "Kim.Park@Example.com") }, {
      loginKey: "kim.soo.park@example.com",
      oktaStatus: null,
      person: null,
      oktaUserId: null,
      login: "kim.soo.park@example.com",
      owner: "owner-1",
      requestedKey: "kim.park@example.com",
      strategy: "middle_name",
      source: "hook",
    });
    assert.equal(index.findForOwner("owner-2", "kim.park@example.com"), undefined);
    assert.equal(index.findForOwner("owner-1", "kim.lee@example.com"), undefined);
  });
});

Deno.test("LoginIndex.disown() keeps the login taken but by no owner", async () => {
  await withIndex((index) => {
    index.reserve(reservation("ana@example.com", {
      owner: "o1",
      requestedKey: "ana@example.com",
      strategy: "unchanged",
      source: "hook",
    }));
    index.disown("ANA@example.com", "okta_conflict");
    assert.deepEqual({ ...index.find("ana@example.com") }, {
      loginKey: "ana@example.com",
      oktaStatus: null,
      person: null,
      oktaUserId: null,
      login: "ana@example.com",
      owner: null,
      requestedKey: null,
      strategy: "unchanged",
      source: "okta_conflict",
    });
    assert.equal(index.findForOwner("o1", "ana@example.com"), undefined);
  });
});

Deno.test("LoginIndex.freeSuffixedLogin() starts at 2 and continues from its counter", async () => {
  await withIndex((index, db) => {
    const parts = { local: "john.smith", domain: "example.com" };
    index.reserve(reservation("john.smith@example.com"));
    assert.equal(index.freeSuffixedLogin(parts), "john.smith2@example.com");
    assert.equal(counter(db, "john.smith@example.com"), 3);
    // Not reserved by the caller, yet not offered again: the counter moved on.
    assert.equal(index.freeSuffixedLogin(parts), "john.smith3@example.com");
    assert.equal(counter(db, "john.smith@example.com"), 4);
  });
});

Deno.test("LoginIndex.freeSuffixedLogin() skips numbers taken after the counter was set", async () => {
  await withIndex((index, db) => {
    const parts = { local: "john.smith", domain: "example.com" };
    assert.equal(index.freeSuffixedLogin(parts), "john.smith2@example.com");
    index.reserve(reservation("john.smith3@example.com"));
    index.reserve(reservation("John.Smith4@Example.com"));
    assert.equal(index.freeSuffixedLogin(parts), "john.smith5@example.com");
    assert.equal(counter(db, "john.smith@example.com"), 6);
  });
});

Deno.test("LoginIndex.freeSuffixedLogin() skips the numbered logins already seeded, at its domain only", async () => {
  await withIndex((index, db) => {
    for (
      const login of [
        "john.smith@example.com",
        "john.smith2@example.com",
        "john.smith3@example.com",
        "john.smith4@example.com",
        "john.smith5@example.com",
        "JOHN.SMITH9@EXAMPLE.COM",
        "john.smith12@other.example", // another domain
        "john.smithy@example.com", // not a number
        "john.smith40x@example.com", // not only a number
        "john.smith.7@example.com", // another local part
      ]
    ) index.reserve(reservation(login));
    assert.equal(
      index.freeSuffixedLogin({ local: "John.Smith", domain: "Example.com" }),
      "John.Smith10@Example.com",
    );
    assert.equal(counter(db, "john.smith@example.com"), 11);
  });
});

Deno.test("LoginIndex.freeSuffixedLogin() returns null when the local part would pass 64 characters", async () => {
  await withIndex((index, db) => {
    const local = "a".repeat(63);
    const parts = { local, domain: "example.com" };
    for (let n = 2; n <= 9; n++) index.reserve(reservation(`${local}${n}@example.com`));
    // 10 would make a 65-character local part.
    assert.equal(index.freeSuffixedLogin(parts), null);
    assert.equal(counter(db, `${local}@example.com`), undefined);
  });
});

Deno.test("LoginIndex.freeSuffixedLogin() returns null when the login would pass 100 characters", async () => {
  await withIndex((index) => {
    const domain = `${"d".repeat(40)}.${"e".repeat(40)}.com`; // 85 characters
    const fits = { local: "a".repeat(13), domain }; // 13 + 1 + 1 + 85 = 100
    assert.equal(index.freeSuffixedLogin(fits), `${"a".repeat(13)}2@${domain}`);
    assert.equal(index.freeSuffixedLogin({ local: "a".repeat(14), domain }), null);
  });
});
