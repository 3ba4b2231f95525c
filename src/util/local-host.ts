import { isIP } from "node:net";

/**
 * Whether a model endpoint's host is on this machine or a private network, where servers
 * (Ollama, llama.cpp, vLLM, a gateway in the same compose file) usually need no API key:
 * loopback, RFC 1918, CGNAT (Tailscale), link-local and IPv6 unique-local addresses, `localhost`,
 * names without a dot (a container's service name) and the private suffixes `.local`,
 * `.localhost`, `.internal`, `.lan` and `.home.arpa`. Anything else is taken for a public
 * provider, which wants a key.
 */
export function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  const family = isIP(host);
  if (family === 4) return isPrivateIPv4(host);
  if (family === 6) return isPrivateIPv6(host);
  if (!host.includes(".")) return true;
  return [".local", ".localhost", ".internal", ".lan", ".home.arpa"].some((suffix) => host.endsWith(suffix));
}

function isPrivateIPv4(host: string): boolean {
  const [a = 0, b = 0] = host.split(".").map(Number);
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

function isPrivateIPv6(host: string): boolean {
  if (host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  if (mapped) return isPrivateIPv4(mapped[1]!);
  // fc00::/7 (unique local) and fe80::/10 (link-local).
  return /^f[cd][0-9a-f]{0,2}:/.test(host) || /^fe[89ab][0-9a-f]?:/.test(host);
}
