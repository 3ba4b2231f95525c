/**
 * The descriptor-relative file system calls Bun does not expose (openat, openat2, mkdirat,
 * renameat, unlinkat, fdopendir/readdir), through bun:ffi, for Linux and macOS. Reading, writing,
 * fstat and close go through `node:fs`, which accepts raw descriptors.
 *
 * Failures throw `FsCallError` with the errno's name and the call, never a path.
 */
import { CString, type FFIFunction, FFIType, type Pointer, ptr, read } from "bun:ffi";
import { closeSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { FsCallError } from "./fs-call-error.ts";
import { openLibc } from "./libc.ts";

/** One directory entry as readdir(3) gives it: the name and d_type (`DT_*` values are the same on Linux and Darwin). */
export interface RawDirEntry {
  readonly name: string;
  readonly dtype: number;
}

/** `d_type` values. */
export const DT_DIR = 4;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_UNKNOWN = 0;

const isDarwin = process.platform === "darwin";
// x86_64 macOS keeps the 32-bit-inode ABI under the plain names; the $INODE64 variants use the
// struct dirent below. arm64 macOS has only the 64-bit one, under the plain names.
const inode64 = isDarwin && process.arch === "x64" ? "$INODE64" : "";
// struct dirent: Linux (glibc and musl) d_ino 8, d_off 8, d_reclen 2, d_type 1, d_name;
// Darwin d_ino 8, d_seekoff 8, d_reclen 2, d_namlen 2, d_type 1, d_name.
const direntType = isDarwin ? 20 : 18;
const direntName = isDarwin ? 21 : 19;

function bind() {
  const fd = FFIType.i32;
  const symbols: Record<string, FFIFunction> = {
    openat: { args: [fd, FFIType.ptr, FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    mkdirat: { args: [fd, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    renameat: { args: [fd, FFIType.ptr, fd, FFIType.ptr], returns: FFIType.i32 },
    unlinkat: { args: [fd, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    dup: { args: [fd], returns: FFIType.i32 },
    [`fdopendir${inode64}`]: { args: [fd], returns: FFIType.ptr },
    [`readdir${inode64}`]: { args: [FFIType.ptr], returns: FFIType.ptr },
    closedir: { args: [FFIType.ptr], returns: FFIType.i32 },
    [isDarwin ? "__error" : "__errno_location"]: { args: [], returns: FFIType.ptr },
  };
  // syscall(2) is variadic; on Linux (x86_64, aarch64) variadic integer arguments travel in the
  // same registers as fixed ones, so declaring the five that openat2 takes is exact; its long
  // result is read as an int, which an fd or -1 fits. Linux only.
  if (!isDarwin) symbols["syscall"] = { args: [FFIType.i64, fd, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 };
  const lib = openLibc(symbols);
  const s = lib.symbols as unknown as Record<string, (...args: unknown[]) => unknown>;
  const errnoLocation = s[isDarwin ? "__error" : "__errno_location"]!;
  return {
    openat: s["openat"] as (dir: number, name: Pointer, flags: number, mode: number) => number,
    mkdirat: s["mkdirat"] as (dir: number, name: Pointer, mode: number) => number,
    renameat: s["renameat"] as (from: number, fromName: Pointer, to: number, toName: Pointer) => number,
    unlinkat: s["unlinkat"] as (dir: number, name: Pointer, flags: number) => number,
    dup: s["dup"] as (fd: number) => number,
    fdopendir: s[`fdopendir${inode64}`] as (fd: number) => Pointer | null,
    readdir: s[`readdir${inode64}`] as (dir: Pointer) => Pointer | null,
    closedir: s["closedir"] as (dir: Pointer) => number,
    syscall: s["syscall"] as ((nr: bigint, dir: number, path: Pointer, how: Pointer, size: bigint) => number) | undefined,
    errno: () => read.i32(errnoLocation() as Pointer, 0),
  };
}

// Opened once, on first use, and kept: these calls run on every fs tool call, and dlopen per call
// would cost more than the calls themselves.
let libc: ReturnType<typeof bind> | undefined;
const lib = () => (libc ??= bind());

const errnoNames = new Map(Object.entries(osConstants.errno).map(([name, value]) => [value, name]));

/**
 * Reads errno right after a call returned -1: errno is per thread, and only the few synchronous
 * statements between the failing call and this read run on this thread meanwhile.
 */
function fail(syscall: string): never {
  const errno = lib().errno();
  throw new FsCallError(errnoNames.get(errno) ?? `errno ${errno}`, syscall);
}

const cString = (name: string) => Buffer.from(`${name}\0`);

/**
 * openat(2): `name` relative to `dir`; a new descriptor. openat is variadic: on arm64 macOS its
 * `mode` is read from the stack, not from the register this passes it in, so callers that create a
 * file there set its mode afterwards (fchmod).
 */
export function openAt(dir: number, name: string, flags: number, mode = 0): number {
  const fd = lib().openat(dir, ptr(cString(name)), flags, mode);
  return fd >= 0 ? fd : fail("openat");
}

/** Linux's openat2 system call number (437 on x86_64 and aarch64 alike). */
const sysOpenat2 = 437n;

/**
 * openat2(2) with `resolve` flags (Linux ≥ 5.6). Throws FsCallError("ENOSYS") where the kernel or
 * a seccomp filter does not have it (filters may answer EPERM instead).
 */
export function openat2(dir: number, path: string, flags: number, mode: number, resolve: number): number {
  const call = lib().syscall;
  if (!call) throw new FsCallError("ENOSYS", "openat2");
  const how = new BigUint64Array([BigInt(flags), BigInt(mode), BigInt(resolve)]); // struct open_how
  const fd = call(sysOpenat2, dir, ptr(cString(path)), ptr(how), BigInt(how.byteLength));
  return fd >= 0 ? fd : fail("openat2");
}

/** mkdirat(2). */
export function mkdirAt(dir: number, name: string, mode: number): void {
  if (lib().mkdirat(dir, ptr(cString(name)), mode) !== 0) fail("mkdirat");
}

/** renameat(2) from and to names in the same directory descriptor. */
export function renameAt(dir: number, from: string, to: string): void {
  if (lib().renameat(dir, ptr(cString(from)), dir, ptr(cString(to))) !== 0) fail("renameat");
}

/** unlinkat(2) of a file (not a directory). */
export function unlinkAt(dir: number, name: string): void {
  if (lib().unlinkat(dir, ptr(cString(name)), 0) !== 0) fail("unlinkat");
}

/**
 * Up to `limit` entries of the open directory `dir`, except "." and "..", and how many more it
 * has: read from the descriptor itself (fdopendir on a duplicate, which the stream then owns), so
 * they are the entries of the directory that was opened, wherever it has been moved since. `dir`
 * stays open.
 */
export function readDirFd(dir: number, limit: number): { entries: RawDirEntry[]; more: number } {
  const c = lib();
  const copy = c.dup(dir);
  if (copy < 0) fail("dup");
  const stream = c.fdopendir(copy);
  if (stream === null) {
    const error = new FsCallError(errnoNames.get(c.errno()) ?? "EBADF", "fdopendir");
    closeQuietly(copy);
    throw error;
  }
  try {
    const entries: RawDirEntry[] = [];
    let more = 0;
    // readdir returns null at the end (and on error; a directory that cannot be read further ends there).
    for (let entry = c.readdir(stream); entry !== null; entry = c.readdir(stream)) {
      if (isDotOrDotDot(entry)) continue;
      if (entries.length < limit) entries.push({ name: new CString(entry, direntName).toString(), dtype: read.u8(entry, direntType) });
      else more++;
    }
    return { entries, more };
  } finally {
    c.closedir(stream);
  }
}

const dot = 0x2e;
function isDotOrDotDot(entry: Pointer): boolean {
  if (read.u8(entry, direntName) !== dot) return false;
  const second = read.u8(entry, direntName + 1);
  return second === 0 || (second === dot && read.u8(entry, direntName + 2) === 0);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed: nothing to release
  }
}
