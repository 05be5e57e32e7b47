import assert from "node:assert/strict";
import { clientAddress, isTrusted, parseBlock } from "./addresses.ts";

const blocks = (...texts: string[]) => texts.map((t) => parseBlock(t)!);

Deno.test("parseBlock() reads addresses and CIDR blocks of both families, and refuses the rest", () => {
  assert.deepEqual(parseBlock("10.0.0.0/8"), { family: 4, bits: 0x0a000000n, prefix: 8 });
  assert.equal(parseBlock("192.0.2.1")?.prefix, 32);
  assert.equal(parseBlock("fd00::/8")?.family, 6);
  assert.equal(parseBlock("::1")?.prefix, 128);
  for (
    const bad of [
      "",
      "10.0.0.256",
      "10.0.0.0/33",
      "10.0.0.0/",
      "fd00::/129",
      "a.b.c.d",
      "1::2::3",
      "x",
    ]
  ) {
    assert.equal(parseBlock(bad), null, bad);
  }
});

Deno.test("isTrusted() matches within a block only", () => {
  const trusted = blocks("10.0.0.0/8", "2001:db8::/32", "::ffff:192.0.2.0/120");
  assert.equal(isTrusted("10.1.2.3", trusted), true);
  assert.equal(isTrusted("11.1.2.3", trusted), false);
  assert.equal(isTrusted("2001:db8:1::5", trusted), true);
  assert.equal(isTrusted("[2001:db9::5]", trusted), false);
  assert.equal(isTrusted("::ffff:192.0.2.7", trusted), true);
  assert.equal(isTrusted("not an address", trusted), false);
});

Deno.test("clientAddress() follows X-Forwarded-For only through trusted hops", () => {
  const trusted = blocks("10.0.0.0/8");
  // Load balancer 10.0.0.5 received from 198.51.100.7: that is the client.
  assert.equal(clientAddress("10.0.0.5", "198.51.100.7", trusted), "198.51.100.7");
  // A client that forges the header gets its own address, whatever it wrote to the left.
  assert.equal(clientAddress("10.0.0.5", "1.2.3.4, 198.51.100.7", trusted), "198.51.100.7");
  // Two trusted hops.
  assert.equal(clientAddress("10.0.0.5", "198.51.100.7, 10.0.0.9", trusted), "198.51.100.7");
  // From an untrusted peer the header is ignored.
  assert.equal(clientAddress("203.0.113.1", "198.51.100.7", trusted), "203.0.113.1");
  // Garbage stops the walk at the last address vouched for; no list means no proxies.
  assert.equal(clientAddress("10.0.0.5", "evil", trusted), "10.0.0.5");
  assert.equal(clientAddress("10.0.0.5", "198.51.100.7", []), "10.0.0.5");
});
