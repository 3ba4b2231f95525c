import { randomBytes } from "node:crypto";
import { closeSync } from "node:fs";
import { z } from "zod";
import type { DirHandle } from "../../platform/dir-handle.ts";
import { syncFd, writeAllFd } from "../../platform/fd-io.ts";
import { formatSize } from "../../util/duration.ts";
import { defineTool } from "../define-tool.ts";
import { ToolFailure, ToolInputError } from "../tool.ts";
import { type FsRoot, fsFailure } from "./fs-root.ts";

/** What fs_write needs: its root and the largest file it writes. */
export interface FsWriteOptions {
  readonly root: FsRoot;
  readonly maxBytes: number;
}

/**
 * Builds `fs_write`: writes a whole text file under the root, atomically. The directory is opened
 * relative to the root without following any link; in that one directory handle the content goes
 * to a new temporary file (O_EXCL, so nothing existing is written through), is flushed to disk,
 * and is renamed over the target: a reader sees the old file or the new one, never half of it.
 * Every failure removes the temporary file, through the same handle, so none is left anywhere.
 */
export function createFsWriteTool({ root, maxBytes }: FsWriteOptions) {
  return defineTool({
    name: "fs_write",
    description: `Write a text file under the tool root, replacing it if it exists (at most ${formatSize(maxBytes)}). Paths are relative to the root.`,
    input: z.object({
      path: z.string().describe('File path relative to the root, e.g. "notes/todo.md"'),
      content: z.string().describe("The whole new content of the file"),
      create_dirs: z.boolean().default(false).describe("Create missing parent directories"),
    }),
    run: async ({ path, content, create_dirs }) => {
      const data = Buffer.from(content);
      if (data.length > maxBytes) throw new ToolInputError(`content: ${formatSize(data.length)} is more than the ${formatSize(maxBytes)} fs_write accepts`);
      return root.inParentDir(path, create_dirs, async (dir, name) => {
        const replaced = await replaceFile(dir, name, data, path);
        return { path, bytes: data.length, replaced };
      });
    },
  });
}

/**
 * Writes `data` to a temporary file in `dir` and renames it to `name`; whether a file was
 * replaced. Failures are ToolFailures naming `path`, the model's path.
 */
export async function replaceFile(dir: DirHandle, name: string, data: Uint8Array, path: string): Promise<boolean> {
  const existing = stat(dir, name, path);
  if (existing?.type === "symlink") throw new ToolFailure(`path: "${path}" is a symbolic link; fs_write does not replace links`, { code: "fs_symlink" });
  if (existing?.type === "dir") throw new ToolFailure(`path: "${path}" is a directory`, { code: "fs_is_directory" });
  const temp = temporaryName(name);
  let fd: number;
  try {
    fd = dir.createFile(temp, existing ? existing.mode & 0o777 : 0o644);
  } catch (error) {
    throw fsFailure(path, error);
  }
  let renamed = false;
  try {
    try {
      await writeAllFd(fd, data);
      await syncFd(fd);
    } finally {
      closeSync(fd);
    }
    // Both names in the directory handle: the rename cannot land anywhere else, whatever has
    // been renamed or swapped above it meanwhile. A link or directory that appeared at `name`
    // since the check is replaced (a link) or refused (EISDIR), never written through.
    dir.rename(temp, name);
    renamed = true;
  } catch (error) {
    throw fsFailure(path, error);
  } finally {
    if (!renamed) removeQuietly(dir, temp);
  }
  return existing !== undefined;
}

function stat(dir: DirHandle, name: string, path: string) {
  try {
    return dir.stat(name);
  } catch (error) {
    throw fsFailure(path, error);
  }
}

/** A dot-file beside the target, named after it (cut so the name stays under NAME_MAX's 255 bytes). */
function temporaryName(name: string): string {
  return `.${name.slice(0, 40)}.${randomBytes(6).toString("hex")}.skiff-tmp`;
}

function removeQuietly(dir: DirHandle, temp: string): void {
  try {
    dir.unlink(temp);
  } catch {
    // Already gone, or the directory went with it: nothing of ours is left to remove.
  }
}
