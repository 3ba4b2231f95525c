import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { formatSize } from "../../util/duration.ts";
import { defineTool } from "../define-tool.ts";
import { ToolFailure, ToolInputError } from "../tool.ts";
import type { FsRoot } from "./fs-root.ts";

/** What fs_write needs: its root and the largest file it writes. */
export interface FsWriteOptions {
  readonly root: FsRoot;
  readonly maxBytes: number;
}

/**
 * Builds `fs_write`: writes a whole text file under the root, atomically. The content goes to a
 * new temporary file in the same directory (O_EXCL, so nothing existing is written through),
 * is flushed to disk, then renamed over the target: a reader sees the old file or the new one,
 * never half of it, and a crash leaves at most a stray temporary file.
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
      const size = Buffer.byteLength(content);
      if (size > maxBytes) throw new ToolInputError(`content: ${formatSize(size)} is more than the ${formatSize(maxBytes)} fs_write accepts`);
      const { dir, name } = await root.forWrite(path, create_dirs);
      const target = join(dir, name);
      const existing = await lstat(target).catch(() => undefined);
      if (existing?.isSymbolicLink()) throw new ToolFailure(`path: "${path}" is a symbolic link; fs_write does not replace links`, { code: "fs_symlink" });
      if (existing?.isDirectory()) throw new ToolFailure(`path: "${path}" is a directory`, { code: "fs_is_directory" });
      const temp = join(dir, `.${name}.${randomBytes(6).toString("hex")}.skiff-tmp`);
      const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, existing ? existing.mode & 0o777 : 0o644);
      try {
        await root.assertHandleInside(handle, path);
        await handle.writeFile(content);
        await handle.sync();
      } catch (error) {
        await handle.close().catch(() => {});
        await unlink(temp).catch(() => {});
        throw error;
      }
      await handle.close();
      try {
        await rename(temp, target);
      } catch (error) {
        await unlink(temp).catch(() => {});
        throw error;
      }
      return { path, bytes: size, replaced: existing !== undefined };
    },
  });
}
