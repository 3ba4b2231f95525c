import { z } from "zod";
import { fstatFd, readFd } from "../../platform/fd-io.ts";
import { formatSize } from "../../util/duration.ts";
import { defineTool } from "../define-tool.ts";
import { ToolFailure } from "../tool.ts";
import { type FsRoot, fsFailure } from "./fs-root.ts";

/** What fs_read needs: its root and how much it reads at once. */
export interface FsReadOptions {
  readonly root: FsRoot;
  /** Most bytes returned by one call; larger files are read in pages with `offset`. */
  readonly maxBytes: number;
}

/**
 * Builds `fs_read`: a text file under the root, a page at a time. The file is opened relative to
 * the root without following any link, then checked and read through that one descriptor. A file
 * with more than one hard link is refused: a link made inside the root to a file outside it looks
 * like any other file, and no path check can tell (writes are safe anyway: fs_write replaces,
 * never writes through).
 */
export function createFsReadTool({ root, maxBytes }: FsReadOptions) {
  return defineTool({
    name: "fs_read",
    idempotent: true,
    description: `Read a text file under the tool root. Paths are relative to the root. Returns at most ${formatSize(maxBytes)} per call; use offset to read further.`,
    input: z.object({
      path: z.string().describe('File path relative to the root, e.g. "notes/todo.md"'),
      offset: z.number().int().min(0).default(0).describe("Byte offset to start at"),
      length: z.number().int().min(1).optional().describe(`Bytes to read (at most ${maxBytes})`),
    }),
    run: ({ path, offset, length }) =>
      root.readFile(path, async (fd) => {
        const stat = await fstatFd(fd).catch((error: unknown) => {
          throw fsFailure(path, error);
        });
        if (stat.isDirectory()) throw new ToolFailure(`path: "${path}" is a directory; use fs_list`, { code: "fs_is_directory" });
        if (!stat.isFile()) throw new ToolFailure(`path: "${path}" is not a regular file`, { code: "fs_not_file" });
        if (stat.nlink > 1) {
          throw new ToolFailure(`path: "${path}" has ${stat.nlink} hard links and may be a link to a file outside the root; it is not read`, {
            code: "fs_hard_link",
          });
        }
        const want = Math.min(length ?? maxBytes, maxBytes);
        const buffer = Buffer.alloc(Math.max(0, Math.min(want, stat.size - offset)));
        const bytesRead =
          buffer.length === 0
            ? 0
            : await readFd(fd, buffer, offset).catch((error: unknown) => {
                throw fsFailure(path, error);
              });
        const bytes = buffer.subarray(0, bytesRead);
        if (bytes.includes(0)) throw new ToolFailure(`path: "${path}" is a binary file; fs_read returns text only`, { code: "fs_binary" });
        const text = new TextDecoder().decode(bytes);
        const end = offset + bytesRead;
        return end < stat.size ? `${text}\n…[bytes ${offset}–${end} of ${stat.size}; call fs_read with offset=${end} for more]` : text;
      }),
  });
}
