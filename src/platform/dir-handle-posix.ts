/**
 * `DirHandle` on Linux and macOS: a directory descriptor, and every name resolved relative to it
 * by the kernel. A path below it is opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
 * where the kernel has it (Linux 5.6+): one call that fails with ELOOP on a link at any step and can
 * never leave the directory. Elsewhere (macOS, older kernels, seccomp filters that refuse openat2)
 * it walks one component at a time with openat(O_NOFOLLOW), each step relative to the descriptor
 * the previous one returned. Either way there is no path to swap between a check and a use: what
 * was opened is what is used.
 */
import { closeSync, fchmodSync, fstatSync } from "node:fs";
import type { DirEntry, DirHandle, EntryStat, EntryType } from "./dir-handle.ts";
import { FsCallError } from "./fs-call-error.ts";
import { DT_DIR, DT_LNK, DT_REG, DT_UNKNOWN, mkdirAt, openAt, openat2, readDirFd, renameAt, unlinkAt } from "./libc-fs.ts";
import type { OpenFlags } from "./open-flags.ts";

// linux/openat2.h
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_NO_SYMLINKS = 0x04;
const RESOLVE_BENEATH = 0x08;
const beneath = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

/** Whether openat2 can be used: unknown until the first call, then remembered for the process. */
let openat2Works: boolean | undefined = process.platform === "linux" ? undefined : false;

/** Opens the root directory itself (its last component must not be a link). */
export function openPosixRootDir(realPath: string, flags: OpenFlags): DirHandle {
  return new PosixDir(openAt(flags.AT_FDCWD, realPath, flags.dirAnchor | flags.O_DIRECTORY | flags.O_NOFOLLOW | flags.O_CLOEXEC), flags);
}

class PosixDir implements DirHandle {
  constructor(
    private readonly fd: number,
    private readonly flags: OpenFlags,
  ) {}

  openFile(parts: readonly string[]): number {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, on the event loop.
    return openBeneath(this.fd, parts, this.flags.O_RDONLY | this.flags.O_NONBLOCK, this.flags);
  }

  openDir(parts: readonly string[], purpose: "list" | "anchor"): DirHandle {
    const access = purpose === "list" ? this.flags.O_RDONLY | this.flags.O_NONBLOCK : this.flags.dirAnchor;
    return new PosixDir(openBeneath(this.fd, parts, access | this.flags.O_DIRECTORY, this.flags), this.flags);
  }

  createFile(name: string, mode: number): number {
    const f = this.flags;
    const fd = openAt(this.fd, name, f.O_WRONLY | f.O_CREAT | f.O_EXCL | f.O_NOFOLLOW | f.O_CLOEXEC, mode);
    if (process.platform === "darwin") {
      // openat's variadic mode does not arrive on arm64 macOS (see openAt); set it now.
      try {
        fchmodSync(fd, mode & ~darwinUmask());
      } catch (error) {
        closeSync(fd);
        throw error;
      }
    }
    return fd;
  }

  stat(name: string): EntryStat | undefined {
    let fd: number;
    try {
      fd = openAt(this.fd, name, this.flags.statOnly | this.flags.O_NOFOLLOW | this.flags.O_CLOEXEC);
    } catch (error) {
      if (error instanceof FsCallError && error.code === "ENOENT") return undefined;
      // Darwin's O_EVTONLY cannot open a link itself; O_NOFOLLOW refuses it, which says what it is.
      if (error instanceof FsCallError && error.code === "ELOOP") return { type: "symlink", size: 0, mode: 0 };
      throw error;
    }
    try {
      const stat = fstatSync(fd);
      const type: EntryType = stat.isFile() ? "file" : stat.isDirectory() ? "dir" : stat.isSymbolicLink() ? "symlink" : "other";
      return { type, size: stat.size, mode: stat.mode & 0o7777 };
    } finally {
      closeSync(fd);
    }
  }

  makeDir(name: string): void {
    mkdirAt(this.fd, name, 0o777); // less the umask, as mkdir(1) does
  }

  rename(from: string, to: string): void {
    renameAt(this.fd, from, to);
  }

  unlink(name: string): void {
    unlinkAt(this.fd, name);
  }

  entries(limit: number): { entries: DirEntry[]; more: number } {
    const { entries, more } = readDirFd(this.fd, limit);
    return { entries: entries.map(({ name, dtype }) => ({ name, type: entryType(dtype) })), more };
  }

  close(): void {
    closeSync(this.fd);
  }
}

function entryType(dtype: number): EntryType | undefined {
  switch (dtype) {
    case DT_REG:
      return "file";
    case DT_DIR:
      return "dir";
    case DT_LNK:
      return "symlink";
    case DT_UNKNOWN:
      return undefined;
    default:
      return "other";
  }
}

/**
 * Opens `parts` below the directory `dir` with `access` flags, refusing a symbolic link at every
 * step (ELOOP): openat2 where it works, else `walkBeneath`. An empty `parts` opens `dir` itself.
 */
export function openBeneath(dir: number, parts: readonly string[], access: number, flags: OpenFlags): number {
  const path = parts.length === 0 ? "." : parts.join("/");
  const how = access | flags.O_NOFOLLOW | flags.O_CLOEXEC;
  if (openat2Works !== false) {
    // A rename elsewhere on the system can make openat2 answer EAGAIN (it cannot prove the walk
    // stayed beneath); a few retries, then the walk, which is never ambiguous.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openat2(dir, path, how, 0, beneath);
        openat2Works = true;
        return fd;
      } catch (error) {
        if (!(error instanceof FsCallError)) throw error;
        if (error.code === "EAGAIN") continue;
        // A link as the last component, opened with O_DIRECTORY, is ENOTDIR (as for a file); say ELOOP.
        const statOnly = flags.statOnly | flags.O_NOFOLLOW | flags.O_CLOEXEC;
        if (error.code === "ENOTDIR" && (how & flags.O_DIRECTORY) !== 0 && isLink(() => openat2(dir, path, statOnly, 0, beneath))) {
          throw new FsCallError("ELOOP", error.syscall);
        }
        if (openat2Works === undefined && (error.code === "ENOSYS" || error.code === "EPERM") && !openat2Answers(dir, flags)) {
          openat2Works = false;
          break;
        }
        throw error;
      }
    }
  }
  return walkBeneath(dir, parts, access, flags);
}

/**
 * Tells a kernel or seccomp filter without openat2 (ENOSYS, or EPERM from filters that answer so)
 * from a real EPERM on one file: opening the directory itself cannot be refused for permissions.
 */
function openat2Answers(dir: number, flags: OpenFlags): boolean {
  try {
    closeSync(openat2(dir, ".", flags.dirAnchor | flags.O_DIRECTORY | flags.O_CLOEXEC, 0, beneath));
    return true;
  } catch (error) {
    return !(error instanceof FsCallError && (error.code === "ENOSYS" || error.code === "EPERM"));
  }
}

/**
 * `openBeneath` without openat2 (macOS, Linux before 5.6): one openat(O_NOFOLLOW) per component,
 * each relative to the descriptor the previous one returned, none of them a link.
 */
export function walkBeneath(dir: number, parts: readonly string[], access: number, flags: OpenFlags): number {
  const how = access | flags.O_NOFOLLOW | flags.O_CLOEXEC;
  const through = flags.dirAnchor | flags.O_DIRECTORY | flags.O_NOFOLLOW | flags.O_CLOEXEC;
  let current = dir;
  try {
    for (const part of parts.slice(0, -1)) {
      const next = openComponent(current, part, through, flags);
      if (current !== dir) closeSync(current);
      current = next;
    }
    return openComponent(current, parts.at(-1) ?? ".", how, flags);
  } finally {
    if (current !== dir) closeSync(current);
  }
}

/**
 * openat of one name. Linux answers O_DIRECTORY | O_NOFOLLOW on a link with ENOTDIR, the same as
 * on a file; a link is reported as ELOOP everywhere, so the caller can say which it was.
 */
function openComponent(dir: number, name: string, how: number, flags: OpenFlags): number {
  try {
    return openAt(dir, name, how);
  } catch (error) {
    const statOnly = flags.statOnly | flags.O_NOFOLLOW | flags.O_CLOEXEC;
    if (error instanceof FsCallError && error.code === "ENOTDIR" && (how & flags.O_DIRECTORY) !== 0 && isLink(() => openAt(dir, name, statOnly))) {
      throw new FsCallError("ELOOP", error.syscall);
    }
    throw error;
  }
}

/** Whether `openLink` (an open with O_NOFOLLOW and no O_DIRECTORY) meets a link: Linux's O_PATH opens the link itself, others refuse it. */
function isLink(openLink: () => number): boolean {
  try {
    const fd = openLink();
    try {
      return fstatSync(fd).isSymbolicLink();
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return error instanceof FsCallError && error.code === "ELOOP";
  }
}

let umask: number | undefined;
/** The process umask, read once (reading it means setting it, so not on every call). */
function darwinUmask(): number {
  return (umask ??= process.umask());
}
