/**
 * Makes a running Bun.serve accept on another listening socket: the one systemd passed.
 *
 * Bun.serve cannot listen on a descriptor it is given (Bun 1.4: an `fd` option is ignored and it
 * binds port 3000; node:http's `listen({ fd })` silently binds a random port instead). Accepting
 * with node:net or Bun.listen and piping each connection to Bun.serve works but doubled the
 * server's CPU per request (docs/architecture.md has the numbers). So skiff lets Bun.serve bind a
 * throwaway loopback port and then puts the inherited socket in its place, under the same
 * descriptor number and the same registration in Bun's event loop:
 *
 *   1. find Bun's listening descriptor (by its port) and its entry in Bun's epoll instance
 *      (/proc/self/fdinfo of the epoll descriptor lists each watched descriptor, its inode, event
 *      mask and user data: the pointer Bun's socket library dispatches on);
 *   2. EPOLL_CTL_DEL that entry, dup3() the inherited socket onto the same number (closing the
 *      throwaway one), make it non-blocking as Bun's sockets are;
 *   3. EPOLL_CTL_ADD it with the same mask and data.
 *
 * From then on Bun accepts from the inherited socket exactly as from its own, and closes it on
 * stop(). Linux only (socket activation is systemd's). Not finding exactly one descriptor and one
 * registration throws before anything is changed, naming what was found.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { epollEvent, linux, socketCalls } from "./libc-socket.ts";
import { listeningSocketsOnPort, socketInode } from "./listening-sockets.ts";

/** Where Bun's event loop watches a descriptor. */
interface EpollEntry {
  readonly epollFd: number;
  readonly events: number;
  readonly data: bigint;
}

/**
 * Moves `inheritedFd` into the place of the Bun.serve listener on loopback port `bunPort`; the
 * inherited descriptor number is closed (the socket lives on under Bun's number, close-on-exec).
 */
export function adoptListeningSocket(inheritedFd: number, bunPort: number): void {
  const candidates = listeningSocketsOnPort(bunPort).filter((fd) => fd !== inheritedFd);
  if (candidates.length !== 1) throw new Error(`expected one socket of Bun's HTTP server on port ${bunPort}, found ${candidates.length}`);
  const bunFd = candidates[0]!;
  const inode = socketInode(bunFd);
  const entries = inode === undefined ? [] : epollEntriesFor(bunFd, inode);
  if (entries.length !== 1) throw new Error(`expected Bun's event loop to watch its listening socket once, found ${entries.length} registrations`);
  const entry = entries[0]!;
  const calls = socketCalls();
  const event = epollEvent(entry.events, entry.data);
  calls.epollCtl(entry.epollFd, linux.EPOLL_CTL_DEL, bunFd, null);
  try {
    calls.fcntl(inheritedFd, linux.F_SETFL, calls.fcntl(inheritedFd, linux.F_GETFL, 0) | linux.O_NONBLOCK);
    calls.dup3(inheritedFd, bunFd, linux.O_CLOEXEC);
  } catch (error) {
    calls.epollCtl(entry.epollFd, linux.EPOLL_CTL_ADD, bunFd, event); // Bun's own socket again
    throw error;
  }
  calls.epollCtl(entry.epollFd, linux.EPOLL_CTL_ADD, bunFd, event);
  calls.close(inheritedFd);
}

/** The epoll registrations of `fd` (whose socket has inode `inode`) in this process's epoll instances. */
function epollEntriesFor(fd: number, inode: number): EpollEntry[] {
  const found: EpollEntry[] = [];
  for (const name of readdirSync("/proc/self/fd")) {
    const epollFd = Number(name);
    if (!isEpoll(epollFd)) continue;
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${epollFd}`, "utf8");
    } catch {
      continue; // closed meanwhile
    }
    // "tfd:        6 events:       19 data:     5b5b57f4ba0  pos:0 ino:b4a50 sdev:9"
    for (const match of info.matchAll(/^tfd:\s*(\d+)\s+events:\s*([0-9a-f]+)\s+data:\s*([0-9a-f]+)\s+pos:\s*\d+\s+ino:\s*([0-9a-f]+)/gm)) {
      if (Number(match[1]) !== fd || parseInt(match[4]!, 16) !== inode) continue;
      found.push({ epollFd, events: parseInt(match[2]!, 16), data: BigInt(`0x${match[3]}`) });
    }
  }
  return found;
}

function isEpoll(fd: number): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`) === "anon_inode:[eventpoll]";
  } catch {
    return false;
  }
}
