import { isIP } from "node:net";
import { ConfigError, configIssue } from "../errors.ts";

/** Where the service listens, from `server.listen`. */
export interface ListenAddress {
  readonly hostname: string;
  /** 0 lets the system pick a free port (tests). */
  readonly port: number;
  /** True for 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
  readonly loopback: boolean;
}

/** Parses `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (every interface). Errors name the key and the accepted forms. */
export function parseListen(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65_535) {
    throw new ConfigError([
      configIssue("server.listen", `expected HOST:PORT such as 127.0.0.1:8080, [::1]:8080 or 0.0.0.0:8080 (":8080" for every interface), got "${text}"`, {
        code: "invalid_value",
      }),
    ]);
  }
  const host = match[1] ?? match[2] ?? "";
  if (match[1] !== undefined && isIP(host) !== 6) {
    throw new ConfigError([configIssue("server.listen", `"[${host}]" is not an IPv6 address`, { code: "invalid_value" })]);
  }
  const hostname = host === "" ? "0.0.0.0" : host;
  return { hostname, port, loopback: isLoopback(hostname) };
}

/** Whether a host name or address only reaches this machine. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === "localhost" || host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

/** Refuses to expose the API beyond this machine without a bearer token. */
export function checkExposure(address: ListenAddress, hasToken: boolean): void {
  if (address.loopback || hasToken) return;
  throw new ConfigError([
    configIssue(
      "server.listen",
      `listening on ${address.hostname} would expose the API to the network without authentication; ` +
        "set server.auth_token_file (--auth-token-file PATH) or SKIFF_AUTH_TOKEN, or declare [[server.keys]], or listen on 127.0.0.1",
      { code: "conflict" },
    ),
  ]);
}

/** The URL clients use for an address, e.g. `http://127.0.0.1:8080`. */
export function urlOf(hostname: string, port: number): string {
  return `http://${isIP(hostname) === 6 ? `[${hostname}]` : hostname}:${port}`;
}
