/**
 * Finds this process's own listening TCP sockets by port, among its descriptors (Linux), with
 * getsockname(2) and SO_ACCEPTCONN: Bun.serve does not say which descriptor it listens on.
 * Not /proc/net/tcp: on a busy host that table lists every socket of the machine (tens of
 * thousands after a load test), megabytes to read and parse.
 */
import { readdirSync, readlinkSync } from "node:fs";
import { linux, socketCalls } from "./libc-socket.ts";
import { readInetAddress } from "./sockaddr.ts";

/** The descriptors of this process listening on TCP `port` (any address). */
export function listeningSocketsOnPort(port: number): number[] {
  const calls = socketCalls();
  const found: number[] = [];
  for (const entry of readdirSync("/proc/self/fd")) {
    const fd = Number(entry);
    if (socketInode(fd) === undefined) continue;
    try {
      if (readInetAddress(calls.getsockname(fd))?.port !== port) continue;
      if (calls.getsockoptInt(fd, linux.SOL_SOCKET, linux.SO_ACCEPTCONN) === 1) found.push(fd);
    } catch {
      // closed meanwhile, or not an inet socket
    }
  }
  return found;
}

/** The inode number of the socket `fd` refers to ("socket:[123]" in /proc), or undefined if it is no socket. */
export function socketInode(fd: number): number | undefined {
  try {
    const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // closed meanwhile
  }
}
