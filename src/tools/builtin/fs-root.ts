import { closeSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, normalize, sep } from "node:path";
import { ConfigError, configIssue } from "../../errors.ts";
import { type DirHandle, dirHandlesSupported, openRootDir } from "../../platform/dir-handle.ts";
import { ToolFailure, ToolInputError } from "../tool.ts";

/**
 * The directory the fs_* tools are confined to, resolved once at start (it may itself be a
 * symlink). Every call opens the root as a directory handle and resolves the model's path inside
 * it, refusing a symbolic link at every component (see platform/dir-handle.ts): there is no
 * checked path that a concurrent rename could redirect between the check and the use.
 */
export class FsRoot {
  private constructor(private readonly path: string) {}

  /** Resolves `tools.fs_root`; a missing setting or directory is a ConfigError naming `tool`. */
  static open(root: string | undefined, tool: string): FsRoot {
    if (root === undefined) {
      throw new ConfigError([configIssue("tools.fs_root", `${tool} is enabled but fs_root is not set; set it to the directory ${tool} may use`, { code: "missing" })]);
    }
    if (!dirHandlesSupported()) {
      throw new ConfigError([configIssue("tools.enable", `${tool} is not available on ${process.platform}/${process.arch}`, { code: "unavailable" })]);
    }
    let real: string;
    try {
      real = realpathSync(root);
    } catch {
      throw new ConfigError([configIssue("tools.fs_root", `the directory "${root}" does not exist`, { code: "not_found" })]);
    }
    if (!statSync(real).isDirectory()) throw new ConfigError([configIssue("tools.fs_root", `"${root}" is not a directory`, { code: "invalid_value" })]);
    return new FsRoot(real);
  }

  /** The path relative to the root, checked lexically: no absolute path, nothing above the root. */
  relative(path: string): string {
    if (path.includes("\0")) throw new ToolInputError("path: must not contain a NUL character");
    if (isAbsolute(path)) {
      throw new ToolInputError(`path: "${path}" is absolute; give a path relative to the root, e.g. "notes/todo.txt"`);
    }
    const normalized = normalize(path === "" ? "." : path);
    if (normalized === ".." || normalized.startsWith(`..${sep}`)) {
      throw new ToolInputError(`path: "${path}" leads outside the root; ".." may not climb above it`);
    }
    return normalized;
  }

  /** Runs `use` with the file at `path` open for reading, and closes it after. */
  readFile<T>(path: string, use: (fd: number) => Promise<T>): Promise<T> {
    const parts = components(this.relative(path));
    return this.withRoot(async (root) => {
      const fd = attempt(path, () => root.openFile(parts));
      try {
        return await use(fd);
      } finally {
        closeQuietly(fd);
      }
    });
  }

  /** Runs `use` with the directory at `path` open for listing, and closes it after. */
  listDir<T>(path: string, use: (dir: DirHandle) => T): Promise<T> {
    const parts = components(this.relative(path));
    return this.withRoot(async (root) => {
      let dir: DirHandle;
      try {
        dir = root.openDir(parts, "list");
      } catch (error) {
        if (code(error) === "ENOTDIR" && isFile(root, parts)) {
          throw new ToolFailure(`path: "${path}" is a file; use fs_read`, { code: "fs_not_directory", cause: error });
        }
        throw fsFailure(path, error);
      }
      try {
        return use(dir);
      } finally {
        dir.close();
      }
    });
  }

  /**
   * Runs `use` with the directory that holds the file `path` and the file's name. With
   * `createDirs`, missing directories are made one at a time, each inside the one before it.
   */
  inParentDir<T>(path: string, createDirs: boolean, use: (dir: DirHandle, name: string) => Promise<T>): Promise<T> {
    const relative = this.relative(path);
    const parts = components(relative);
    const name = parts.pop();
    if (name === undefined || relative.endsWith(sep)) throw new ToolInputError(`path: "${path}" names a directory; give a file path`);
    return this.withRoot(async (root) => {
      let dir: DirHandle;
      try {
        dir = root.openDir(parts, "anchor");
      } catch (error) {
        if (code(error) !== "ENOENT") throw fsFailure(path, error);
        if (!createDirs) throw fsFailure(parts.join("/"), error, "create_dirs: true makes it");
        dir = attempt(path, () => makeDirs(root, parts));
      }
      try {
        return await use(dir, name);
      } finally {
        dir.close();
      }
    });
  }

  private async withRoot<T>(use: (root: DirHandle) => Promise<T>): Promise<T> {
    let root: DirHandle;
    try {
      root = openRootDir(this.path);
    } catch (error) {
      throw new ToolFailure(`the fs_root directory cannot be opened (${code(error) ?? "error"}); it was moved or removed after skiff started`, {
        code: "fs_root_unavailable",
        cause: error,
      });
    }
    try {
      return await use(root);
    } finally {
      root.close();
    }
  }
}

/**
 * The ToolFailure for a failed file system call on `path` (the model's relative path: host paths
 * never appear), by errno name.
 */
export function fsFailure(path: string, error: unknown, hint?: string): ToolFailure {
  if (error instanceof ToolFailure) return error;
  const errno = code(error);
  const suffix = hint ? `; ${hint}` : "";
  switch (errno) {
    case "ELOOP":
      return new ToolFailure(`path: "${path}" goes through a symbolic link; fs tools do not follow links`, { code: "fs_symlink", cause: error });
    case "EXDEV":
      return new ToolFailure(`path: "${path}" leads outside the root`, { code: "fs_outside_root", cause: error });
    case "ENOENT":
      return new ToolFailure(`path: "${path}" does not exist${suffix}`, { code: "fs_not_found", cause: error });
    case "ENOTDIR":
      return new ToolFailure(`path: "${path}" does not exist: a part of it is a file, not a directory`, { code: "fs_not_found", cause: error });
    case "EACCES":
    case "EPERM":
      return new ToolFailure(`path: "${path}" is not accessible (permission denied)`, { code: "fs_permission", cause: error });
    default:
      return new ToolFailure(`path: "${path}" cannot be used (${errno ?? "unknown error"})`, { code: "fs_failed", cause: error });
  }
}

/** Runs a synchronous file system call, turning its failure into the ToolFailure for `path`. */
function attempt<T>(path: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw fsFailure(path, error);
  }
}

function components(relative: string): string[] {
  return relative === "." ? [] : relative.split(sep).filter((part) => part !== "" && part !== ".");
}

/** Opens `parts` below `root`, making each missing directory inside its parent's handle. */
function makeDirs(root: DirHandle, parts: readonly string[]): DirHandle {
  let current = root.openDir([], "anchor");
  for (const part of parts) {
    let next: DirHandle;
    try {
      try {
        next = current.openDir([part], "anchor");
      } catch (error) {
        if (code(error) !== "ENOENT") throw error;
        try {
          current.makeDir(part);
        } catch (made) {
          if (code(made) !== "EEXIST") throw made; // made meanwhile by a parallel call: open it
        }
        next = current.openDir([part], "anchor");
      }
    } finally {
      current.close();
    }
    current = next;
  }
  return current;
}

function isFile(root: DirHandle, parts: readonly string[]): boolean {
  try {
    closeQuietly(root.openFile(parts));
    return true;
  } catch {
    return false;
  }
}

function code(error: unknown): string | undefined {
  const value = (error as { code?: unknown } | null)?.code;
  return typeof value === "string" ? value : undefined;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
