import { realpathSync, statSync } from "node:fs";
import { type FileHandle, mkdir, readlink, realpath } from "node:fs/promises";
import { isAbsolute, join, normalize, sep } from "node:path";
import { ConfigError } from "../../errors.ts";
import { ToolFailure, ToolInputError } from "../tool.ts";

/**
 * The directory the fs_* tools are confined to, resolved once (it may itself be a symlink). Every
 * path is checked twice: after resolving symlinks, and again on the file actually opened (through
 * /proc/self/fd), so a link swapped in between check and open is caught too.
 */
export class FsRoot {
  private constructor(readonly path: string) {}

  /** Resolves `tools.fs_root`; a missing setting or directory is a ConfigError naming `tool`. */
  static open(root: string | undefined, tool: string): FsRoot {
    if (root === undefined) {
      throw new ConfigError([{ path: "tools.fs_root", message: `${tool} is enabled but fs_root is not set; set it to the directory ${tool} may use` }]);
    }
    let real: string;
    try {
      real = realpathSync(root);
    } catch {
      throw new ConfigError([{ path: "tools.fs_root", message: `the directory "${root}" does not exist` }]);
    }
    if (!statSync(real).isDirectory()) throw new ConfigError([{ path: "tools.fs_root", message: `"${root}" is not a directory` }]);
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

  /** An existing path, with every symlink resolved, that is inside the root. */
  async existing(path: string): Promise<string> {
    const relative = this.relative(path);
    let real: string;
    try {
      real = await realpath(join(this.path, relative));
    } catch (error) {
      throw notFound(path, error);
    }
    this.assertInside(real, path);
    return real;
  }

  /**
   * The real directory a new file at `path` goes in, and the file's name. With `createDirs`, the
   * missing directories are made one by one below the deepest existing one, which is checked.
   */
  async forWrite(path: string, createDirs: boolean): Promise<{ dir: string; name: string }> {
    const relative = this.relative(path);
    const parts = relative.split(sep);
    const name = parts.pop()!;
    if (name === "." || name === "") throw new ToolInputError(`path: "${path}" names a directory; give a file path`);
    let existingDepth = parts.length;
    let dir: string | undefined;
    while (dir === undefined) {
      try {
        dir = await realpath(join(this.path, ...parts.slice(0, existingDepth)));
      } catch (error) {
        if (!createDirs || existingDepth === 0) throw notFound(join(...parts), error, "create_dirs: true makes it");
        existingDepth--;
      }
    }
    this.assertInside(dir, path);
    for (const part of parts.slice(existingDepth)) {
      dir = join(dir, part);
      await mkdir(dir);
    }
    return { dir, name };
  }

  /** Checks the file behind an open handle, where the kernel says it is. */
  async assertHandleInside(handle: FileHandle, path: string): Promise<void> {
    let actual: string;
    try {
      actual = await readlink(`/proc/self/fd/${handle.fd}`);
    } catch {
      return; // no /proc (not Linux): the realpath check before opening is what we have
    }
    this.assertInside(actual, path);
  }

  private assertInside(real: string, path: string): void {
    if (real !== this.path && !real.startsWith(this.path.endsWith(sep) ? this.path : `${this.path}${sep}`)) {
      throw new ToolFailure(`path: "${path}" resolves outside the root (through a symbolic link); only files under the root can be used`, {
        code: "fs_outside_root",
      });
    }
  }
}

function notFound(path: string, error: unknown, hint?: string): ToolFailure {
  const code = (error as { code?: unknown } | null)?.code;
  const what = code === "ENOENT" ? "does not exist" : code === "EACCES" ? "is not readable" : `cannot be used (${String(code ?? error)})`;
  return new ToolFailure(`path: "${path}" ${what}${hint ? `; ${hint}` : ""}`, { code: "fs_not_found", cause: error });
}
