import assert from "node:assert/strict";
import { parseKeySet } from "./oauth.ts";

Deno.test("parseKeySet() keeps the signing keys and drops symmetric and encryption keys", () => {
  const rsa = { kty: "RSA", kid: "r1", n: "x", e: "AQAB" };
  const ec = { kty: "EC", kid: "e1", crv: "P-256", x: "x", y: "y", use: "sig" };
  const set = parseKeySet({
    keys: [rsa, { kty: "oct", kid: "h1", k: "c2VjcmV0" }, { ...ec, kid: "e2", use: "enc" }, ec, 7],
  });
  assert.deepEqual(set.keys, [rsa, ec]);
  assert.throws(() => parseKeySet({ keys: "none" }), /no keys array/);
  assert.throws(() => parseKeySet(null), /no keys array/);
});
