import assert from "node:assert/strict";
import { parseBlock, TrustedProxies } from "./addresses.ts";

const proxies = (...texts: string[]) => new TrustedProxies(texts.map((t) => parseBlock(t)!));

Deno.test("parseBlock() reads addresses and CIDR blocks of both families, and refuses the rest", () => {
  assert.deepEqual(parseBlock("10.0.0.0/8"), { family: 4, address: "10.0.0.0", prefix: 8 });
  assert.deepEqual(parseBlock("[::1]"), { family: 6, address: "::1", prefix: 128 });
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
      "10.0.0.0/-1",
      "10.0.0.0/8.5",
    ]
  ) {
    assert.equal(parseBlock(bad), null, bad);
  }
});

Deno.test("TrustedProxies.has() matches within a block only, IPv4-mapped addresses too", () => {
  const trusted = proxies("10.0.0.0/8", "2001:db8::/32", "::ffff:192.0.2.0/120");
  assert.equal(trusted.has("10.1.2.3"), true);
  assert.equal(trusted.has("11.1.2.3"), false);
  assert.equal(trusted.has("2001:db8:1::5"), true);
  assert.equal(trusted.has("[2001:db9::5]"), false);
  assert.equal(trusted.has("::ffff:192.0.2.7"), true);
  assert.equal(trusted.has("not an address"), false);
  // A peer seen through a dual-stack socket, as an IPv4-mapped IPv6 address.
  assert.equal(trusted.has("::ffff:10.9.8.7"), true);
  assert.equal(trusted.has("::ffff:11.9.8.7"), false);
});

Deno.test("TrustedProxies.clientOf() follows X-Forwarded-For only through trusted hops", () => {
  const trusted = proxies("10.0.0.0/8");
  // Load balancer 10.0.0.5 received from 198.51.100.7: that is the client.
  assert.equal(trusted.clientOf("10.0.0.5", "198.51.100.7"), "198.51.100.7");
  // A client that forges the header gets its own address, whatever it wrote to the left.
  assert.equal(trusted.clientOf("10.0.0.5", "1.2.3.4, 198.51.100.7"), "198.51.100.7");
  // Two trusted hops.
  assert.equal(trusted.clientOf("10.0.0.5", "198.51.100.7, 10.0.0.9"), "198.51.100.7");
  // From an untrusted peer the header is ignored.
  assert.equal(trusted.clientOf("203.0.113.1", "198.51.100.7"), "203.0.113.1");
  // Garbage stops the walk at the last address vouched for; no list means no proxies.
  assert.equal(trusted.clientOf("10.0.0.5", "evil"), "10.0.0.5");
  assert.equal(proxies().clientOf("10.0.0.5", "198.51.100.7"), "10.0.0.5");
});
