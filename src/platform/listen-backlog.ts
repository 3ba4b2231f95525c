/**
 * Raises the accept queue of a listening socket that Bun.serve opened.
 *
 * Bun.serve listens with a backlog of 512 and has no option to change it. When more clients than
 * that connect at once (10,000 in benchmark B4), Linux drops the surplus SYNs and each of those
 * clients waits for its retransmit: 1 s, then 3 s. Calling listen(2) again on a listening socket
 * only changes its backlog, which the kernel caps at net.core.somaxconn; so this finds the socket
 * among the process's descriptors (by its port) and asks for the largest queue the system allows,
 * as Go's net.Listen does. Linux only; elsewhere Bun's 512 stays.
 */
import { FFIType, ptr } from "bun:ffi";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { openLibc } from "./libc.ts";

/** What came of it: the backlog now in force, or why it is still Bun's. */
export type BacklogOutcome = { readonly backlog: number } | { readonly unchanged: string };

/** Bun.serve's fixed backlog. */
export const bunListenBacklog = 512;

/**
 * Re-listens every socket of this process listening on TCP `port` with the system's largest
 * backlog (net.core.somaxconn). Sockets are found among the process's own descriptors with
 * getsockname(2) and SO_ACCEPTCONN, not in /proc/net/tcp: on a busy host that table lists every
 * socket of the machine (tens of thousands after a load test), megabytes to read and parse.
 */
export function raiseListenBacklog(port: number): BacklogOutcome {
  if (process.platform !== "linux") return { unchanged: `not available on ${process.platform}` };
  try {
    const somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim());
    if (!Number.isInteger(somaxconn) || somaxconn <= bunListenBacklog) return { unchanged: `net.core.somaxconn is ${somaxconn}` };
    const libc = openLibc({
      listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
      getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    });
    try {
      const address = new Uint8Array(128); // sockaddr_storage
      const flag = new Int32Array(1);
      const length = new Uint32Array(1);
      let raised = 0;
      for (const entry of readdirSync("/proc/self/fd")) {
        const fd = Number(entry);
        if (!isSocket(`/proc/self/fd/${entry}`)) continue;
        length[0] = address.byteLength;
        if (libc.symbols.getsockname(fd, ptr(address), ptr(length)) !== 0) continue;
        const family = address[0]! | (address[1]! << 8);
        if (family !== afInet && family !== afInet6) continue;
        if (((address[2]! << 8) | address[3]!) !== port) continue; // sin_port / sin6_port, network order
        length[0] = 4;
        if (libc.symbols.getsockopt(fd, solSocket, soAcceptConn, ptr(flag), ptr(length)) !== 0 || flag[0] !== 1) continue;
        if (libc.symbols.listen(fd, somaxconn) === 0) raised++;
      }
      return raised > 0 ? { backlog: somaxconn } : { unchanged: `no listening socket on port ${port} among this process's descriptors` };
    } finally {
      libc.close();
    }
  } catch (error) {
    return { unchanged: error instanceof Error ? error.message : String(error) };
  }
}

// Linux values (this runs on Linux only).
const afInet = 2;
const afInet6 = 10;
const solSocket = 1;
const soAcceptConn = 30;

function isSocket(link: string): boolean {
  try {
    return readlinkSync(link).startsWith("socket:");
  } catch {
    return false; // closed meanwhile
  }
}
