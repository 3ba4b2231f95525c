/**
 * `DirHandle` on Windows, by path: there is no openat there (through Bun), so each use checks the
 * path's components with lstat (a link or junction is refused, as on other platforms) and then
 * opens the path. A local process that swaps a directory for a junction between that check and
 * the open can still redirect it; docs/tools.md says so. Errors carry the errno name, not the path.
 */
import { constants, lstatSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { DirEntry, DirHandle, EntryStat, EntryType } from "./dir-handle.ts";
import { FsCallError } from "./fs-call-error.ts";

/** Opens the root directory (a real path) as a handle. */
export function openWindowsRootDir(realPath: string): DirHandle {
  const root = new WindowsDir(realPath);
  if (root.stat(".")?.type !== "dir") throw new FsCallError("ENOTDIR", "open");
  return root;
}

class WindowsDir implements DirHandle {
  constructor(private readonly path: string) {}

  openFile(parts: readonly string[]): number {
    const path = this.checked(parts);
    return call("open", () => openSync(path, constants.O_RDONLY));
  }

  openDir(parts: readonly string[]): DirHandle {
    const path = this.checked(parts);
    if (describe(path)?.type !== "dir") throw new FsCallError("ENOTDIR", "open");
    return new WindowsDir(path);
  }

  createFile(name: string, mode: number): number {
    return call("open", () => openSync(join(this.path, name), "wx", mode));
  }

  stat(name: string): EntryStat | undefined {
    return describe(join(this.path, name));
  }

  makeDir(name: string): void {
    call("mkdir", () => mkdirSync(join(this.path, name)));
  }

  rename(from: string, to: string): void {
    call("rename", () => renameSync(join(this.path, from), join(this.path, to)));
  }

  unlink(name: string): void {
    call("unlink", () => unlinkSync(join(this.path, name)));
  }

  entries(limit: number): { entries: DirEntry[]; more: number } {
    const all = call("scandir", () => readdirSync(this.path, { withFileTypes: true }));
    const entries = all.slice(0, limit).map((entry): DirEntry => ({
      name: entry.name,
      type: entry.isFile() ? "file" : entry.isDirectory() ? "dir" : entry.isSymbolicLink() ? "symlink" : "other",
    }));
    return { entries, more: all.length - entries.length };
  }

  close(): void {
    // Nothing is held.
  }

  /** The path of `parts`, after checking that no component is a link and every one but the last is a directory. */
  private checked(parts: readonly string[]): string {
    let path = this.path;
    parts.forEach((part, index) => {
      path = join(path, part);
      const found = describe(path);
      if (found === undefined) throw new FsCallError("ENOENT", "lstat");
      if (found.type === "symlink") throw new FsCallError("ELOOP", "lstat");
      if (index < parts.length - 1 && found.type !== "dir") throw new FsCallError("ENOTDIR", "lstat");
    });
    return path;
  }
}

function describe(path: string): EntryStat | undefined {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return undefined;
    throw asCallError(error, "lstat");
  }
  const type: EntryType = stat.isFile() ? "file" : stat.isDirectory() ? "dir" : stat.isSymbolicLink() ? "symlink" : "other";
  return { type, size: stat.size, mode: stat.mode & 0o7777 };
}

function call<T>(syscall: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw asCallError(error, syscall);
  }
}

/** Node's errors name the path in their message; keep only the code. */
function asCallError(error: unknown, syscall: string): FsCallError {
  const code = (error as { code?: unknown } | null)?.code;
  return new FsCallError(typeof code === "string" ? code : "EIO", syscall);
}
