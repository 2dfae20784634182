/**
 * Which addresses an outbound webhook may reach (docs/INTEGRATIONS.md, "Private addresses").
 * A subscriber URL that resolves to a loopback, private, link-local, unique-local, shared
 * (CGNAT), multicast, reserved or documentation address is refused — at creation and again at
 * every delivery, where the post then connects to the very address that was checked, so a
 * name that re-resolves to 127.0.0.1 after the check (DNS rebinding) reaches nothing.
 * WEBHOOKS_ALLOW_PRIVATE=true lifts the rule (tests, a receiver on the same machine).
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['100::', 64], ['2001::', 32], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv6');

/** The sixteen bytes of an IPv6 address (`::` and a trailing dotted quad allowed). */
function ipv6Bytes(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase();
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.flatMap((g) => {
    const n = Number.parseInt(g || '0', 16);
    return [n >> 8, n & 0xff];
  });
}

/** The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4), if any. */
function embeddedIpv4(bytes: number[]): string | undefined {
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  const v4 = (at: number) => bytes.slice(at, at + 4).join('.');
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12); // ::ffff:a.b.c.d
  if (zeros(0, 12)) return v4(12); // ::a.b.c.d (deprecated compatible form)
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zeros(4, 12)) return v4(12); // 64:ff9b::/96
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return v4(2); // 2002::/16 (6to4)
  return undefined;
}

/** Whether an IP address is one a webhook must not reach (anything but a public unicast address). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family !== 6) return true; // not an address at all: refuse rather than guess
  const bytes = ipv6Bytes(address);
  const v4 = embeddedIpv4(bytes);
  if (v4 && v4 !== '0.0.0.0' && BLOCKED.check(v4, 'ipv4')) return true;
  return BLOCKED.check(address.split('%')[0]!, 'ipv6');
}

export class PrivateAddressError extends Error {
  constructor(readonly host: string, readonly address: string) {
    super(`${host} resolves to ${address}, a private, loopback or reserved address; webhooks go only to public addresses (set WEBHOOKS_ALLOW_PRIVATE=true to allow them)`);
  }
}

export class UnresolvableHostError extends Error {
  constructor(readonly host: string, cause: unknown) {
    super(`${host} does not resolve (${(cause as NodeJS.ErrnoException)?.code ?? String(cause)})`);
  }
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * The addresses `hostname` resolves to, every one checked. Throws PrivateAddressError when
 * any is private (a name with one public and one private address could be steered to the
 * private one) and UnresolvableHostError when it does not resolve.
 */
export async function resolveChecked(hostname: string, allowPrivate: boolean): Promise<ResolvedAddress[]> {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  const literal = isIP(host);
  if (literal) addresses = [{ address: host, family: literal as 4 | 6 }];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })) as ResolvedAddress[];
    } catch (error) {
      throw new UnresolvableHostError(host, error);
    }
    if (addresses.length === 0) throw new UnresolvableHostError(host, 'no address');
  }
  if (!allowPrivate) {
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) throw new PrivateAddressError(host, bad.address);
  }
  return addresses;
}
