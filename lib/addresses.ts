/**
 * The client's address behind trusted proxies: `X-Forwarded-For` is believed only through hops
 * whose address `TRUSTED_PROXIES` lists. From the connection's peer, each trusted hop is
 * replaced by the address it says it received the request from (the rightmost entry not yet
 * used); the first untrusted address is the client. Anyone can send the header, so nothing in it
 * is read past an untrusted hop. Addresses are parsed and matched by `node:net` (`isIP`,
 * `BlockList`), which also matches an IPv4-mapped IPv6 address (`::ffff:10.0.0.5`) against an
 * IPv4 block.
 */

import { BlockList, isIP } from "node:net";

/** A parsed `TRUSTED_PROXIES` entry: an address, or a CIDR block. */
export interface AddressBlock {
  readonly family: 4 | 6;
  readonly address: string;
  readonly prefix: number;
}

/** Parses `text` (`10.0.0.0/8`, `192.0.2.1`, `fd00::/8`, `::1`), or `null` when it is not one. */
export function parseBlock(text: string): AddressBlock | null {
  const [address = "", prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) return null;
  const family = familyOf(address);
  if (family === null) return null;
  const width = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText ?? "0") || prefix > width) return null;
  return { family, address: unbracketed(address), prefix };
}

/** The trusted proxies, built once, asked for every request. */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  constructor(blocks: readonly AddressBlock[]) {
    for (const block of blocks) {
      this.#list.addSubnet(block.address, block.prefix, block.family === 4 ? "ipv4" : "ipv6");
    }
    this.#empty = blocks.length === 0;
  }

  /** Whether `address` lies in one of the blocks. */
  has(address: string): boolean {
    const family = familyOf(address);
    if (family === null) return false;
    return this.#list.check(unbracketed(address), family === 4 ? "ipv4" : "ipv6");
  }

  /** The client's address for a request from `peer` carrying `forwardedFor` (or null). */
  clientOf(peer: string, forwardedFor: string | null): string {
    if (this.#empty || forwardedFor === null) return peer;
    const hops = forwardedFor.split(",").map((hop) => hop.trim()).filter((hop) => hop !== "");
    let client = peer;
    while (this.has(client) && hops.length > 0) {
      const next = hops.pop()!;
      if (familyOf(next) === null) break; // garbage: keep the last address we can vouch for
      client = next;
    }
    return client;
  }
}

function familyOf(address: string): 4 | 6 | null {
  const family = isIP(unbracketed(address));
  return family === 4 || family === 6 ? family : null;
}

function unbracketed(address: string): string {
  return address.replace(/^\[(.*)\]$/, "$1");
}
