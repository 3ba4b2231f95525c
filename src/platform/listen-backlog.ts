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
import { readFileSync } from "node:fs";
import { socketCalls } from "./libc-socket.ts";
import { listeningSocketsOnPort } from "./listening-sockets.ts";

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
    const sockets = listeningSocketsOnPort(port);
    if (sockets.length === 0) return { unchanged: `no listening socket on port ${port} among this process's descriptors` };
    // listen(2) on a listening socket only changes its backlog.
    for (const fd of sockets) socketCalls().listen(fd, somaxconn);
    return { backlog: somaxconn };
  } catch (error) {
    return { unchanged: error instanceof Error ? error.message : String(error) };
  }
}
