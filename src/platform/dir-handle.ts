/**
 * An open directory that names are resolved in, for the fs tools: every operation is relative to
 * it, and nothing it opens goes through a symbolic link. On Linux and macOS it is a descriptor
 * (`dir-handle-posix.ts`), so a directory renamed or swapped for a link after it was opened cannot
 * redirect anything; on Windows it is a path checked component by component before each use
 * (`dir-handle-windows.ts`), which a concurrent swap can still race.
 */
import { openFlagsFor } from "./open-flags.ts";
import { openPosixRootDir } from "./dir-handle-posix.ts";
import { openWindowsRootDir } from "./dir-handle-windows.ts";

/** What an entry is, never following a link. */
export type EntryType = "file" | "dir" | "symlink" | "other";

/** An entry's type, size in bytes and permission bits. */
export interface EntryStat {
  readonly type: EntryType;
  readonly size: number;
  readonly mode: number;
}

/** A directory entry; `type` is undefined when the file system does not say (then `stat` it). */
export interface DirEntry {
  readonly name: string;
  readonly type: EntryType | undefined;
}

/**
 * An open directory. `parts` are path components below it, already checked to be plain names
 * (no "", ".", ".." or separators); an empty list means the directory itself. Failures throw
 * `FsCallError`, whose `code` is "ELOOP" when a symbolic link was met on the way.
 */
export interface DirHandle {
  /** Opens the file at `parts` for reading; a descriptor the caller closes. */
  openFile(parts: readonly string[]): number;
  /** Opens the directory at `parts`; `list` when its entries will be read, `anchor` when only names are resolved in it. */
  openDir(parts: readonly string[], purpose: "list" | "anchor"): DirHandle;
  /** Creates the file `name` here, failing if any entry has that name; a descriptor for writing. */
  createFile(name: string, mode: number): number;
  /** What `name` here is, without following a link; undefined when there is no such entry. */
  stat(name: string): EntryStat | undefined;
  /** Creates the directory `name` here. */
  makeDir(name: string): void;
  /** Renames `from` to `to`, both names in this directory, replacing `to`. */
  rename(from: string, to: string): void;
  /** Removes the file `name` here. */
  unlink(name: string): void;
  /** Up to `limit` of this directory's entries ("." and ".." left out) and how many more there are; needs a handle opened for `list`. */
  entries(limit: number): { readonly entries: DirEntry[]; readonly more: number };
  /** Releases the handle. */
  close(): void;
}

/**
 * Opens the directory at `realPath` (an absolute path with no symbolic links, as realpath gives)
 * as the root handle. Throws FsCallError when it is gone or is no longer a directory.
 */
export function openRootDir(realPath: string): DirHandle {
  if (process.platform === "win32") return openWindowsRootDir(realPath);
  const flags = openFlagsFor(process.platform, process.arch);
  if (!flags) throw new Error(`the fs tools do not support ${process.platform}/${process.arch}`);
  return openPosixRootDir(realPath, flags);
}

/** Whether `openRootDir` works on this platform (it throws elsewhere). */
export function dirHandlesSupported(): boolean {
  return process.platform === "win32" || openFlagsFor(process.platform, process.arch) !== undefined;
}
