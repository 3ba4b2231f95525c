import { lstat, opendir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { defineTool } from "../define-tool.ts";
import { ToolFailure } from "../tool.ts";
import type { FsRoot } from "./fs-root.ts";

/** One directory entry as fs_list shows it. */
export interface ListedEntry {
  readonly name: string;
  readonly type: "file" | "dir" | "symlink" | "other";
  readonly size?: number;
}

const maxEntries = 1000;

/** Builds `fs_list`: the entries of a directory under the root, sorted by name. */
export function createFsListTool({ root }: { readonly root: FsRoot }) {
  return defineTool({
    name: "fs_list",
    description: "List a directory under the tool root: names, types and sizes. Paths are relative to the root.",
    input: z.object({
      path: z.string().default(".").describe('Directory relative to the root; "." is the root itself'),
    }),
    run: async ({ path }) => {
      const real = await root.existing(path);
      const dir = await opendir(real).catch((error: unknown) => {
        const code = (error as { code?: unknown }).code;
        throw new ToolFailure(code === "ENOTDIR" ? `path: "${path}" is a file; use fs_read` : `path: "${path}" cannot be listed (${String(code)})`, {
          cause: error,
        });
      });
      const entries: ListedEntry[] = [];
      let more = 0;
      for await (const entry of dir) {
        if (entries.length >= maxEntries) {
          more++;
          continue;
        }
        const type = entry.isFile() ? "file" : entry.isDirectory() ? "dir" : entry.isSymbolicLink() ? "symlink" : "other";
        const size = type === "file" ? (await lstat(join(real, entry.name)).catch(() => undefined))?.size : undefined;
        entries.push(size === undefined ? { name: entry.name, type } : { name: entry.name, type, size });
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return more > 0 ? { path, entries, truncated: `${more} more entries not shown` } : { path, entries };
    },
  });
}
