import assert from "node:assert/strict";
import { importOwner, oktaUserOwner } from "./owner.ts";

Deno.test("importOwner() keys an attribute owner by app, attribute name and value", () => {
  assert.equal(
    importOwner("attribute", { appId: "0oaApp", attribute: "employeeId", id: "E1" }),
    '["0oaApp","employeeId","E1"]',
  );
  // The same id under data.appUser.id is another key: the two sources never merge by accident.
  assert.equal(
    importOwner("app_user_id", { appId: "0oaApp", attribute: "employeeId", id: "E1" }),
    '["0oaApp","#id","E1"]',
  );
});

Deno.test("importOwner() makes the event its own owner when the user has no stable id", () => {
  assert.equal(
    importOwner("event", { appId: "0oaApp", attribute: "employeeId", id: "evt-1" }),
    '["event","evt-1"]',
  );
});

Deno.test("owner keys cannot be forged by values holding the separators", () => {
  const tricky = importOwner("attribute", { appId: 'a","b', attribute: "x", id: "c" });
  const plain = importOwner("attribute", { appId: "a", attribute: "b", id: "x" });
  assert.notEqual(tricky, plain);
  assert.deepEqual(JSON.parse(tricky), ['a","b', "x", "c"]);
  assert.notEqual(
    oktaUserOwner("00u1"),
    importOwner("event", { appId: null, attribute: "", id: "00u1" }),
  );
});
