import { isIP } from "node:net";

/**
 * Says why http_fetch must not connect to an IP address, or undefined when it may: loopback,
 * private (RFC 1918, CGNAT, IPv6 ULA), link-local (cloud metadata lives at 169.254.169.254),
 * "this network", multicast, reserved and documentation ranges. IPv6 forms that carry an IPv4
 * address (mapped `::ffff:a.b.c.d`, compatible, NAT64, 6to4) are judged by that IPv4 address.
 */
export function blockedAddressReason(address: string): string | undefined {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 4) return ipv4Reason(parseIpv4(bare));
  if (family === 6) return ipv6Reason(parseIpv6(bare));
  return "not an IP address";
}

type Range4 = readonly [base: number, bits: number, reason: string];

const ipv4Ranges: readonly Range4[] = [
  [ip4(0, 0, 0, 0), 8, '"this network" (0.0.0.0/8)'],
  [ip4(10, 0, 0, 0), 8, "private (10.0.0.0/8)"],
  [ip4(100, 64, 0, 0), 10, "carrier-grade NAT (100.64.0.0/10)"],
  [ip4(127, 0, 0, 0), 8, "loopback (127.0.0.0/8)"],
  [ip4(169, 254, 0, 0), 16, "link-local, where cloud metadata services live (169.254.0.0/16)"],
  [ip4(172, 16, 0, 0), 12, "private (172.16.0.0/12)"],
  [ip4(192, 0, 0, 0), 24, "IETF protocol assignments (192.0.0.0/24)"],
  [ip4(192, 0, 2, 0), 24, "documentation (192.0.2.0/24)"],
  [ip4(192, 88, 99, 0), 24, "6to4 relay anycast (192.88.99.0/24)"],
  [ip4(192, 168, 0, 0), 16, "private (192.168.0.0/16)"],
  [ip4(198, 18, 0, 0), 15, "benchmarking (198.18.0.0/15)"],
  [ip4(198, 51, 100, 0), 24, "documentation (198.51.100.0/24)"],
  [ip4(203, 0, 113, 0), 24, "documentation (203.0.113.0/24)"],
  [ip4(224, 0, 0, 0), 4, "multicast (224.0.0.0/4)"],
  [ip4(240, 0, 0, 0), 4, "reserved or broadcast (240.0.0.0/4)"],
];

function ip4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function parseIpv4(text: string): number {
  const [a = 0, b = 0, c = 0, d = 0] = text.split(".").map(Number);
  return ip4(a, b, c, d);
}

function ipv4Reason(value: number): string | undefined {
  for (const [base, bits, reason] of ipv4Ranges) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if ((value & mask) >>> 0 === base) return reason;
  }
  return undefined;
}

/** Eight 16-bit groups; the caller has checked the text with isIP. */
function parseIpv6(text: string): number[] {
  let body = text.split("%")[0]!; // drop a zone id (fe80::1%eth0)
  // A dotted IPv4 tail (::ffff:127.0.0.1) is written as its two hex groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (dotted) {
    const v4 = parseIpv4(dotted[1]!);
    body = `${body.slice(0, dotted.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16)));
  const [head = "", rest] = body.split("::");
  const left = parse(head);
  if (rest === undefined) return left;
  const right = parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function ipv6Reason(g: number[]): string | undefined {
  const v4 = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;
  const zeros = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  if (zeros(0, 8)) return "unspecified (::)";
  if (zeros(0, 7) && g[7] === 1) return "loopback (::1)";
  if (zeros(0, 5) && g[5] === 0xffff) return embedded(ipv4Reason(v4(g[6]!, g[7]!)), "IPv4-mapped");
  if (zeros(0, 6)) return embedded(ipv4Reason(v4(g[6]!, g[7]!)), "IPv4-compatible") ?? "IPv4-compatible (::/96)";
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return embedded(ipv4Reason(v4(g[6]!, g[7]!)), "NAT64");
  if (g[0] === 0x2002) return embedded(ipv4Reason(v4(g[1]!, g[2]!)), "6to4");
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return "unique local, private (fc00::/7)";
  if ((first & 0xffc0) === 0xfe80) return "link-local (fe80::/10)";
  if ((first & 0xffc0) === 0xfec0) return "site-local (fec0::/10)";
  if ((first & 0xff00) === 0xff00) return "multicast (ff00::/8)";
  if (first === 0x2001 && g[1] === 0x0db8) return "documentation (2001:db8::/32)";
  if (first === 0x0100 && zeros(1, 4)) return "discard (100::/64)";
  return undefined;
}

function embedded(reason: string | undefined, form: string): string | undefined {
  return reason === undefined ? undefined : `${form} ${reason}`;
}
