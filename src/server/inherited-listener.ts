/**
 * Where `skiff serve` listens: on the socket systemd passed (socket activation, LISTEN_FDS), or
 * on `server.listen`. An inherited socket is held to the same rule as `server.listen`: beyond
 * this machine only with a bearer token.
 */
import { ConfigError, configIssue } from "../errors.ts";
import { type InheritedSocket, takeInheritedSocket } from "../platform/socket-activation.ts";
import { checkExposure, isLoopback, type ListenAddress } from "./listen.ts";

/** The address to serve on, the inherited socket when there is one, and a note for the log. */
export interface Listener {
  readonly address: ListenAddress;
  readonly inherited?: InheritedSocket;
  /** Why LISTEN_FDS was not used although set, or that server.listen is not used. */
  readonly note?: string;
}

/**
 * The socket systemd passed to process `pid`, else `configured`. Throws ConfigError naming
 * LISTEN_FDS when the passed socket cannot be served, or when it is exposed without a token.
 * Call it before starting child processes: it marks the socket close-on-exec.
 */
export function chooseListener(
  configured: ListenAddress,
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
  hasToken: boolean,
): Listener {
  const activation = takeInheritedSocket(env, pid);
  if (activation.kind === "invalid") throw new ConfigError([configIssue("LISTEN_FDS", activation.reason, { code: "invalid_value" })]);
  if (activation.kind === "none") return { address: configured, ...(activation.ignored ? { note: activation.ignored } : {}) };
  const { socket } = activation;
  const address: ListenAddress = { hostname: socket.address.host, port: socket.address.port, loopback: isLoopback(socket.address.host) };
  try {
    checkExposure(address, hasToken);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      error.issues.map((issue) => ({ ...issue, path: ["LISTEN_FDS"], message: `the socket systemd passed: ${issue.message}` })),
      { cause: error },
    );
  }
  return { address, inherited: socket, note: "serving on the socket systemd passed (LISTEN_FDS); server.listen is not used" };
}
