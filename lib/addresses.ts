/**
 * The client's address behind trusted proxies: `X-Forwarded-For` is believed only through hops
 * whose address `TRUSTED_PROXIES` lists. From the connection's peer, each trusted hop is
 * replaced by the address it says it received the request from (the rightmost entry not yet
 * used); the first untrusted address is the client. Anyone can send the header, so nothing in it
 * is read past an untrusted hop.
 */

/** A parsed `TRUSTED_PROXIES` entry: an address, or a CIDR block. */
export interface AddressBlock {
  readonly family: 4 | 6;
  readonly bits: bigint;
  readonly prefix: number;
}

/** Parses `text` (`10.0.0.0/8`, `192.0.2.1`, `fd00::/8`, `::1`), or `null` when it is not one. */
export function parseBlock(text: string): AddressBlock | null {
  const [address = "", prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) return null;
  const parsed = parseAddress(address);
  if (parsed === null) return null;
  const width = parsed.family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > width || prefixText === "") return null;
  return { family: parsed.family, bits: parsed.bits, prefix };
}

/** Whether `address` lies in one of `blocks`. */
export function isTrusted(address: string, blocks: readonly AddressBlock[]): boolean {
  const parsed = parseAddress(address);
  if (parsed === null) return false;
  return blocks.some((block) => {
    if (block.family !== parsed.family) return false;
    const width = block.family === 4 ? 32n : 128n;
    const shift = width - BigInt(block.prefix);
    return (block.bits >> shift) === (parsed.bits >> shift);
  });
}

/** The client's address for a request from `peer` carrying `forwardedFor` (or null). */
export function clientAddress(
  peer: string,
  forwardedFor: string | null,
  trusted: readonly AddressBlock[],
): string {
  if (trusted.length === 0 || forwardedFor === null) return peer;
  const hops = forwardedFor.split(",").map((hop) => hop.trim()).filter((hop) => hop !== "");
  let client = peer;
  while (isTrusted(client, trusted) && hops.length > 0) {
    const next = hops.pop()!;
    if (parseAddress(next) === null) break; // garbage: keep the last address we can vouch for
    client = next;
  }
  return client;
}

function parseAddress(text: string): { family: 4 | 6; bits: bigint } | null {
  const address = text.replace(/^\[|\]$/g, "");
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4 !== null) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return null;
    return { family: 4, bits: parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n) };
  }
  if (!/^[0-9A-Fa-f:.]+$/.test(address) || !address.includes(":")) return null;
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  // An IPv4 tail (::ffff:192.0.2.1) is two groups.
  const last = (tail.length > 0 ? tail : head).at(-1);
  if (last !== undefined && last.includes(".")) {
    const v4tail = parseAddress(last);
    if (v4tail === null || v4tail.family !== 4) return null;
    const list = tail.length > 0 ? tail : head;
    list.splice(-1, 1, (v4tail.bits >> 16n).toString(16), (v4tail.bits & 0xffffn).toString(16));
  }
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (all.some((g) => !/^[0-9A-Fa-f]{1,4}$/.test(g))) return null;
  return { family: 6, bits: all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n) };
}
