/**
 * Raises the accept queue of a listening socket that Bun.serve opened.
 *
 * Bun.serve listens with a backlog of 512 and has no option to change it. When more clients than
 * that connect at once (10,000 in benchmark B4), Linux drops the surplus SYNs and each of those
 * clients waits for its retransmit: 1 s, then 3 s. Calling listen(2) again on a listening socket
 * only changes its backlog, which the kernel caps at net.core.somaxconn; so this finds the socket
 * among the process's descriptors (by port, in /proc/net/tcp{,6}) and asks for the largest queue
 * the system allows, as Go's net.Listen does. Linux only; elsewhere Bun's 512 stays.
 */
import { FFIType } from "bun:ffi";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { openLibc } from "./libc.ts";

/** What came of it: the backlog now in force, or why it is still Bun's. */
export type BacklogOutcome = { readonly backlog: number } | { readonly unchanged: string };

/** Bun.serve's fixed backlog. */
export const bunListenBacklog = 512;

/**
 * Re-listens every socket of this process listening on TCP `port` with the system's largest
 * backlog (net.core.somaxconn).
 */
export function raiseListenBacklog(port: number): BacklogOutcome {
  if (process.platform !== "linux") return { unchanged: `not available on ${process.platform}` };
  try {
    const somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim());
    if (!Number.isInteger(somaxconn) || somaxconn <= bunListenBacklog) return { unchanged: `net.core.somaxconn is ${somaxconn}` };
    const inodes = listeningSocketInodes(port);
    if (inodes.size === 0) return { unchanged: `no listening socket on port ${port} found in /proc/net/tcp` };
    const libc = openLibc({ listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
    let raised = 0;
    for (const fd of readdirSync("/proc/self/fd")) {
      const inode = socketInode(`/proc/self/fd/${fd}`);
      if (inode !== undefined && inodes.has(inode) && libc.symbols.listen(Number(fd), somaxconn) === 0) raised++;
    }
    libc.close();
    return raised > 0 ? { backlog: somaxconn } : { unchanged: "listen(2) refused" };
  } catch (error) {
    return { unchanged: error instanceof Error ? error.message : String(error) };
  }
}

/** Inodes of the sockets in LISTEN state (st 0A) on `port`, IPv4 and IPv6. */
function listeningSocketInodes(port: number): Set<string> {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue; // no IPv6
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && fields[1]!.endsWith(portHex) && fields[3] === "0A") inodes.add(fields[9]!);
    }
  }
  return inodes;
}

function socketInode(link: string): string | undefined {
  try {
    return /^socket:\[(\d+)\]$/.exec(readlinkSync(link))?.[1];
  } catch {
    return undefined; // closed meanwhile
  }
}
