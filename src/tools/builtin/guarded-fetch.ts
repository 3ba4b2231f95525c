import { isIP } from "node:net";
import type { FetchFn } from "../outbound.ts";
import { ToolFailure } from "../tool.ts";
import { blockedAddressReason } from "./address-policy.ts";
import { redactUrl } from "../../util/redact-url.ts";

/** Resolves a host name to its addresses, like `dns.promises.lookup(host, { all: true })`. */
export type LookupFn = (host: string) => Promise<readonly { readonly address: string; readonly family: number }[]>;

/** What guardedFetch needs; everything is passed in so tests can resolve names their own way. */
export interface GuardedFetchOptions {
  /** Hosts (names or IPs, as written in URLs) that may be reached whatever they resolve to. */
  readonly allowHosts: readonly string[];
  readonly lookup: LookupFn;
  readonly fetch: FetchFn;
  /** Why an address is refused (default: blockedAddressReason); tests swap it to reach 127.0.0.1. */
  readonly blockedReason?: (address: string) => string | undefined;
}

/** One request as http_fetch makes it. */
export interface GuardedRequest {
  readonly method: "GET" | "POST";
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal: AbortSignal;
}

const maxRedirects = 5;

/**
 * Fetches a URL on the model's behalf without letting it reach the machine's own network: every
 * hop (the URL and each redirect, followed here by hand, at most 5) is resolved, every address
 * is checked, and the connection goes to the checked address itself (the URL's host replaced by
 * the IP, with `Host` and TLS `serverName` set to the name), so a DNS answer that changes between
 * check and connect (DNS rebinding) cannot redirect it. Proxies from the environment are not
 * used: a proxy would resolve the name again, on its side. Hosts in `allowHosts` skip the check.
 */
export async function guardedFetch(
  url: string,
  request: GuardedRequest,
  options: GuardedFetchOptions,
): Promise<{ response: Response; url: URL }> {
  const allowed = new Set(options.allowHosts.map(normalizeHost));
  let current = parseTarget(url);
  let method = request.method;
  let body = request.body;
  for (let hop = 0; ; hop++) {
    const pinned = await pin(current, allowed, options.lookup, options.blockedReason ?? blockedAddressReason);
    const headers = new Headers(request.headers);
    let target = current.href;
    const init: BunFetchRequestInit = { method, headers, signal: request.signal, redirect: "manual", proxy: false };
    if (pinned !== undefined) {
      const viaIp = new URL(current.href);
      viaIp.hostname = pinned.includes(":") ? `[${pinned}]` : pinned;
      target = viaIp.href;
      headers.set("host", current.host);
      if (current.protocol === "https:" && isIP(bareHost(current.hostname)) === 0) init.tls = { serverName: bareHost(current.hostname) };
    }
    if (body !== undefined) init.body = body;
    const response = await options.fetch(target, init);
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || location === null) return { response, url: current };
    await response.body?.cancel().catch(() => {});
    if (hop >= maxRedirects) {
      throw new ToolFailure(`${redactUrl(url)} redirected more than ${maxRedirects} times; stopped at ${redactUrl(current)}`, {
        code: "fetch_too_many_redirects",
      });
    }
    const next = parseTarget(new URL(location, current).href);
    // 301/302/303 turn a POST into a GET without a body, as browsers do; 307/308 keep both.
    if (response.status !== 307 && response.status !== 308 && method === "POST") {
      method = "GET";
      body = undefined;
    }
    current = next;
  }
}

function parseTarget(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ToolFailure(`"${redactUrl(text.slice(0, 200))}" is not a URL; give an absolute http:// or https:// URL`, { code: "fetch_bad_url" });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ToolFailure(`only http:// and https:// URLs can be fetched, not ${url.protocol}`, { code: "fetch_bad_url" });
  }
  if (url.username !== "" || url.password !== "") {
    throw new ToolFailure("URLs with a user name or password are refused; credentials do not belong in a URL", { code: "fetch_bad_url" });
  }
  return url;
}

/** The address to connect to, checked; undefined for an allowed host (connect as usual). */
async function pin(
  url: URL,
  allowed: ReadonlySet<string>,
  lookup: LookupFn,
  blockedReason: (address: string) => string | undefined,
): Promise<string | undefined> {
  const host = bareHost(url.hostname);
  if (allowed.has(normalizeHost(host))) return undefined;
  const refuse = (address: string, reason: string) =>
    new ToolFailure(
      `refused to fetch ${redactUrl(url)}: ${address === host ? address : `${host} resolves to ${address}, which`} is ${reason}; only public addresses can be fetched unless tools.allow_hosts lists "${host}"`,
      { code: "fetch_refused" },
    );
  if (isIP(host) !== 0) {
    const reason = blockedReason(host);
    if (reason !== undefined) throw refuse(host, reason);
    return host;
  }
  let addresses: readonly { readonly address: string }[];
  try {
    addresses = await lookup(host);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    throw new ToolFailure(`could not resolve ${host}${typeof code === "string" ? ` (${code})` : ""}`, { code: "fetch_dns_failed", cause: error });
  }
  if (addresses.length === 0) throw new ToolFailure(`could not resolve ${host} (no addresses)`, { code: "fetch_dns_failed" });
  // One bad address is enough to refuse: a name that points inside is not one to trust half-way.
  for (const { address } of addresses) {
    const reason = blockedReason(address);
    if (reason !== undefined) throw refuse(address, reason);
  }
  return addresses[0]!.address;
}

function bareHost(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}

function normalizeHost(host: string): string {
  return bareHost(host.trim().toLowerCase()).replace(/\.$/, "");
}
