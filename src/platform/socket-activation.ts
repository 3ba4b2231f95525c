/**
 * systemd's socket activation (sd_listen_fds(3)): systemd (or `systemd-socket-activate`) binds
 * the listening socket, keeps it open across restarts, and starts the service with the socket as
 * descriptor 3, LISTEN_FDS=1 and LISTEN_PID set to the service's PID. Connections that arrive
 * while the service restarts wait in the socket's queue instead of being refused.
 *
 * `skiff serve` re-executes itself once at start (platform/http-capacity.ts); that is execve(2),
 * so the PID that LISTEN_PID names stays the same and descriptor 3, which systemd passes without
 * close-on-exec, survives it. This module is called afterwards, by the process that serves.
 */
import { linux, SocketCallError, socketCalls } from "./libc-socket.ts";
import { type InetAddress, readInetAddress } from "./sockaddr.ts";

/** The first descriptor systemd passes (SD_LISTEN_FDS_START). */
export const listenFdsStart = 3;

/** A listening TCP socket the service manager passed. */
export interface InheritedSocket {
  readonly fd: number;
  readonly address: InetAddress;
}

/** What the environment says: no socket for this process (and why, if variables were there), one socket, or a mistake. */
export type ActivationOutcome =
  | { readonly kind: "none"; readonly ignored?: string }
  | { readonly kind: "inherited"; readonly socket: InheritedSocket }
  | { readonly kind: "invalid"; readonly reason: string };

/**
 * Checks for a socket passed to process `pid` and, when there is one, marks it close-on-exec so
 * the commands and MCP servers skiff starts do not hold it open too. Call it before starting any.
 */
export function takeInheritedSocket(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
  platform: NodeJS.Platform = process.platform,
): ActivationOutcome {
  const fdsText = env["LISTEN_FDS"];
  const pidText = env["LISTEN_PID"];
  if (fdsText === undefined || fdsText === "") return { kind: "none" };
  if (pidText !== String(pid)) {
    return { kind: "none", ignored: `LISTEN_FDS is set for process ${pidText === undefined || pidText === "" ? "(LISTEN_PID unset)" : pidText}, not this one (${pid})` };
  }
  if (!/^\d+$/.test(fdsText)) return { kind: "invalid", reason: `LISTEN_FDS=${fdsText} is not a number of descriptors` };
  const count = Number(fdsText);
  if (count === 0) return { kind: "none" };
  if (count > 1) {
    return { kind: "invalid", reason: `LISTEN_FDS=${count}: skiff serve listens on one socket; give the .socket unit a single ListenStream=` };
  }
  if (platform !== "linux") return { kind: "invalid", reason: `socket activation (LISTEN_FDS) is supported on Linux only, not ${platform}` };
  const fd = listenFdsStart;
  const calls = socketCalls();
  try {
    const what = `the socket passed as descriptor ${fd} (LISTEN_FDS=1)`;
    if (calls.getsockoptInt(fd, linux.SOL_SOCKET, linux.SO_TYPE) !== linux.SOCK_STREAM) return { kind: "invalid", reason: `${what} is not a stream socket; use ListenStream=` };
    const address = readInetAddress(calls.getsockname(fd));
    if (address === undefined) return { kind: "invalid", reason: `${what} is not a TCP socket; use ListenStream=HOST:PORT` };
    if (calls.getsockoptInt(fd, linux.SOL_SOCKET, linux.SO_ACCEPTCONN) !== 1) return { kind: "invalid", reason: `${what} is not listening; use Accept=no` };
    calls.fcntl(fd, linux.F_SETFD, linux.FD_CLOEXEC);
    return { kind: "inherited", socket: { fd, address } };
  } catch (error) {
    if (error instanceof SocketCallError && (error.code === "EBADF" || error.code === "ENOTSOCK")) {
      return { kind: "invalid", reason: `LISTEN_FDS=1, but descriptor ${fd} is ${error.code === "EBADF" ? "not open" : "not a socket"}` };
    }
    throw error;
  }
}
