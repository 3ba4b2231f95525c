/**
 * The open(2) flag values the descriptor-relative fs calls pass through bun:ffi. They are not the
 * same everywhere: Linux on aarch64 swaps O_DIRECTORY/O_NOFOLLOW with O_DIRECT/O_LARGEFILE against
 * x86_64, and Darwin numbers nearly everything differently. Written out by platform (from each
 * kernel's headers) rather than taken from `fs.constants`, which has neither O_CLOEXEC nor O_PATH;
 * a unit test checks the shared ones against `fs.constants` on the machine it runs on.
 */

/** The flags used, for one platform. */
export interface OpenFlags {
  readonly O_RDONLY: number;
  readonly O_WRONLY: number;
  readonly O_CREAT: number;
  readonly O_EXCL: number;
  readonly O_NONBLOCK: number;
  readonly O_DIRECTORY: number;
  readonly O_NOFOLLOW: number;
  readonly O_CLOEXEC: number;
  /** Opens a name only to fstat it: Linux O_PATH (no read permission needed, never opens a device); Darwin O_EVTONLY. */
  readonly statOnly: number;
  /** Opens a directory only to resolve names in it: Linux O_PATH (search permission is enough); Darwin O_RDONLY. */
  readonly dirAnchor: number;
  /** The "current directory" descriptor for *at() calls. */
  readonly AT_FDCWD: number;
}

// Linux's generic values (include/uapi/asm-generic/fcntl.h); x86_64 uses them as they are.
const linuxX64: OpenFlags = {
  O_RDONLY: 0,
  O_WRONLY: 0o1,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NONBLOCK: 0o4000,
  O_DIRECTORY: 0o200000,
  O_NOFOLLOW: 0o400000,
  O_CLOEXEC: 0o2000000,
  statOnly: 0o10000000, // O_PATH
  dirAnchor: 0o10000000, // O_PATH
  AT_FDCWD: -100,
};

// arch/arm64/include/uapi/asm/fcntl.h: O_DIRECTORY 040000, O_NOFOLLOW 0100000 (O_DIRECT and
// O_LARGEFILE take x86_64's values of these two; getting them backwards opens with O_DIRECT).
const linuxArm64: OpenFlags = { ...linuxX64, O_DIRECTORY: 0o40000, O_NOFOLLOW: 0o100000 };

// Darwin's sys/fcntl.h, the same on x86_64 and arm64.
const darwin: OpenFlags = {
  O_RDONLY: 0,
  O_WRONLY: 0x1,
  O_CREAT: 0x200,
  O_EXCL: 0x800,
  O_NONBLOCK: 0x4,
  O_DIRECTORY: 0x100000,
  O_NOFOLLOW: 0x100,
  O_CLOEXEC: 0x1000000,
  statOnly: 0x8000 | 0x4, // O_EVTONLY (metadata and events only; needs no read permission) | O_NONBLOCK
  dirAnchor: 0x4, // O_RDONLY | O_NONBLOCK
  AT_FDCWD: -2,
};

/** The open flags of `platform`/`arch`; undefined where the descriptor-relative calls are not used (Windows). */
export function openFlagsFor(platform: NodeJS.Platform, arch: string): OpenFlags | undefined {
  if (platform === "linux") return arch === "arm64" ? linuxArm64 : arch === "x64" ? linuxX64 : undefined;
  if (platform === "darwin") return darwin;
  return undefined;
}
