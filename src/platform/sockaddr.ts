/**
 * Socket addresses as the kernel reads and writes them (struct sockaddr_un, sockaddr_in,
 * sockaddr_in6; Linux layout, little-endian hosts: x86_64 and aarch64).
 */
import { linux } from "./libc-socket.ts";

/** sizeof(sun_path). */
const unixPathMax = 108;

/**
 * The sockaddr_un of a Unix socket name as systemd writes it in NOTIFY_SOCKET: an absolute path,
 * or "@name" for the abstract namespace (a leading NUL byte instead of the "@", no terminator).
 * Throws an Error saying what is wrong with the name.
 */
export function unixAddress(name: string): Uint8Array {
  const abstract = name.startsWith("@");
  if (!abstract && !name.startsWith("/")) throw new Error(`"${name}" is neither an absolute path nor an abstract name ("@…")`);
  const path = Buffer.from(abstract ? `\0${name.slice(1)}` : `${name}\0`);
  if (path.byteLength > unixPathMax) throw new Error(`the socket name is ${path.byteLength} bytes; a Unix socket name has at most ${unixPathMax}`);
  const address = new Uint8Array(2 + path.byteLength);
  new DataView(address.buffer).setUint16(0, linux.AF_UNIX, true);
  address.set(path, 2);
  return address;
}

/** An IPv4 or IPv6 socket address, read back. */
export interface InetAddress {
  readonly family: 4 | 6;
  readonly host: string;
  readonly port: number;
}

/** The IP address and port of a sockaddr_in or sockaddr_in6; undefined for any other family. */
export function readInetAddress(address: Uint8Array): InetAddress | undefined {
  if (address.byteLength < 8) return undefined;
  const view = new DataView(address.buffer, address.byteOffset, address.byteLength);
  const family = view.getUint16(0, true);
  const port = view.getUint16(2, false); // network order
  if (family === linux.AF_INET) return { family: 4, host: [...address.subarray(4, 8)].join("."), port };
  if (family === linux.AF_INET6 && address.byteLength >= 24) {
    const groups: string[] = [];
    for (let offset = 8; offset < 24; offset += 2) groups.push(view.getUint16(offset, false).toString(16));
    return { family: 6, host: compressIpv6(groups), port };
  }
  return undefined;
}

/** A sockaddr_in for an IPv4 address such as "127.0.0.1" and a port. */
export function ipv4Address(host: string, port: number): Uint8Array {
  const octets = host.split(".").map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) {
    throw new Error(`"${host}" is not an IPv4 address`);
  }
  const address = new Uint8Array(16);
  const view = new DataView(address.buffer);
  view.setUint16(0, linux.AF_INET, true);
  view.setUint16(2, port, false);
  address.set(octets, 4);
  return address;
}

/** RFC 5952 text: the longest run of two or more zero groups becomes "::"; IPv4-mapped stays dotted. */
function compressIpv6(groups: readonly string[]): string {
  if (groups.slice(0, 5).every((group) => group === "0") && groups[5] === "ffff") {
    const low = (index: number) => parseInt(groups[index]!, 16);
    return `::ffff:${low(6) >> 8}.${low(6) & 255}.${low(7) >> 8}.${low(7) & 255}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < groups.length; start++) {
    let length = 0;
    while (groups[start + length] === "0") length++;
    if (length > bestLength) {
      bestStart = start;
      bestLength = length;
    }
  }
  if (bestStart === -1) return groups.join(":");
  return `${groups.slice(0, bestStart).join(":")}::${groups.slice(bestStart + bestLength).join(":")}`;
}
