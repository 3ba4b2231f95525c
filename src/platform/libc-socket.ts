/**
 * The socket calls Bun does not expose (Unix datagram sockets, socket options, descriptor
 * juggling, epoll), through bun:ffi, for Linux: they serve systemd's protocols, and systemd is
 * Linux only. Each call returns its result or throws `SocketCallError` with the errno's name.
 */
import { FFIType, type Pointer, ptr, read } from "bun:ffi";
import { constants as osConstants } from "node:os";
import { openLibc } from "./libc.ts";

/** Linux values (the same on x86_64 and aarch64). */
export const linux = {
  AF_UNIX: 1,
  AF_INET: 2,
  AF_INET6: 10,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  SOL_SOCKET: 1,
  SO_REUSEADDR: 2,
  SO_TYPE: 3,
  SO_ACCEPTCONN: 30,
  MSG_DONTWAIT: 0x40,
  MSG_NOSIGNAL: 0x4000,
  F_SETFD: 2,
  F_GETFL: 3,
  F_SETFL: 4,
  FD_CLOEXEC: 1,
  O_NONBLOCK: 0o4000,
  O_CLOEXEC: 0o2000000,
  EPOLL_CTL_ADD: 1,
  EPOLL_CTL_DEL: 2,
} as const;

/** A failed socket call: `code` is the errno's name ("ENOENT", "ECONNREFUSED"…). */
export class SocketCallError extends Error {
  constructor(
    readonly code: string,
    readonly syscall: string,
  ) {
    super(`${syscall} failed: ${code}`);
    this.name = "SocketCallError";
  }
}

/** The calls, typed; buffers are passed by pointer and must stay alive for the call only. */
export interface SocketCalls {
  socket(domain: number, type: number): number;
  bind(fd: number, address: Uint8Array): void;
  listen(fd: number, backlog: number): void;
  /** Sends one datagram to `address`; returns the bytes sent. */
  sendto(fd: number, data: Uint8Array, flags: number, address: Uint8Array): number;
  /** Receives into `buffer` (blocking unless the socket or flags say otherwise); returns the length. */
  recv(fd: number, buffer: Uint8Array, flags: number): number;
  /** The socket's own address as a sockaddr (family in the first two bytes). */
  getsockname(fd: number): Uint8Array;
  /** An integer socket option. */
  getsockoptInt(fd: number, level: number, name: number): number;
  setsockoptInt(fd: number, level: number, name: number, value: number): void;
  /** fcntl(2) with an integer argument; returns its result. */
  fcntl(fd: number, command: number, argument: number): number;
  /** Makes `to` refer to the file of `from` (closing what `to` referred to), with `flags` (O_CLOEXEC). */
  dup3(from: number, to: number, flags: number): void;
  /** epoll_ctl(2) with an `epoll_event` built by `epollEvent`, or null for EPOLL_CTL_DEL. */
  epollCtl(epollFd: number, op: number, fd: number, event: Uint8Array | null): void;
  close(fd: number): void;
}

let opened: SocketCalls | undefined;

/** The calls, bound on first use (throws when the C library cannot be loaded). */
export function socketCalls(): SocketCalls {
  opened ??= bind();
  return opened;
}

/**
 * struct epoll_event: a 32-bit event mask and 64 bits of user data, packed on x86_64 (12 bytes)
 * and naturally aligned on aarch64 (16 bytes).
 */
export function epollEvent(events: number, data: bigint): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, events, true);
  view.setBigUint64(process.arch === "x64" ? 4 : 8, data, true);
  return bytes;
}

const errnoNames = new Map(Object.entries(osConstants.errno).map(([name, value]) => [value, name]));

function bind(): SocketCalls {
  const i32 = FFIType.i32;
  const lib = openLibc({
    socket: { args: [i32, i32, i32], returns: i32 },
    bind: { args: [i32, FFIType.ptr, FFIType.u32], returns: i32 },
    listen: { args: [i32, i32], returns: i32 },
    sendto: { args: [i32, FFIType.ptr, FFIType.u64, i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
    recv: { args: [i32, FFIType.ptr, FFIType.u64, i32], returns: FFIType.i64 },
    getsockname: { args: [i32, FFIType.ptr, FFIType.ptr], returns: i32 },
    getsockopt: { args: [i32, i32, i32, FFIType.ptr, FFIType.ptr], returns: i32 },
    setsockopt: { args: [i32, i32, i32, FFIType.ptr, FFIType.u32], returns: i32 },
    // fcntl is variadic; on Linux (x86_64, aarch64) a variadic int travels where a fixed one would.
    fcntl: { args: [i32, i32, i32], returns: i32 },
    dup3: { args: [i32, i32, i32], returns: i32 },
    epoll_ctl: { args: [i32, i32, i32, FFIType.ptr], returns: i32 },
    close: { args: [i32], returns: i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  const s = lib.symbols;
  // errno is per thread and read right after the call that failed, before anything else runs.
  const fail = (syscall: string): never => {
    const errno = read.i32(s.__errno_location() as Pointer, 0);
    throw new SocketCallError(errnoNames.get(errno) ?? `errno ${errno}`, syscall);
  };
  const check = (result: number | bigint, syscall: string): number => (Number(result) < 0 ? fail(syscall) : Number(result));
  return {
    socket: (domain, type) => check(s.socket(domain, type, 0), "socket"),
    bind: (fd, address) => void check(s.bind(fd, ptr(address), address.byteLength), "bind"),
    listen: (fd, backlog) => void check(s.listen(fd, backlog), "listen"),
    sendto: (fd, data, flags, address) => check(s.sendto(fd, ptr(data), data.byteLength, flags, ptr(address), address.byteLength), "sendto"),
    recv: (fd, buffer, flags) => check(s.recv(fd, ptr(buffer), buffer.byteLength, flags), "recv"),
    getsockname: (fd) => {
      const address = new Uint8Array(128); // sockaddr_storage
      const length = new Uint32Array([address.byteLength]);
      check(s.getsockname(fd, ptr(address), ptr(length)), "getsockname");
      return address.subarray(0, length[0]!);
    },
    getsockoptInt: (fd, level, name) => {
      const value = new Int32Array(1);
      const length = new Uint32Array([4]);
      check(s.getsockopt(fd, level, name, ptr(value), ptr(length)), "getsockopt");
      return value[0]!;
    },
    setsockoptInt: (fd, level, name, value) => void check(s.setsockopt(fd, level, name, ptr(new Int32Array([value])), 4), "setsockopt"),
    fcntl: (fd, command, argument) => check(s.fcntl(fd, command, argument), "fcntl"),
    dup3: (from, to, flags) => void check(s.dup3(from, to, flags), "dup3"),
    epollCtl: (epollFd, op, fd, event) => void check(s.epoll_ctl(epollFd, op, fd, event === null ? null : ptr(event)), "epoll_ctl"),
    close: (fd) => void check(s.close(fd), "close"),
  };
}
