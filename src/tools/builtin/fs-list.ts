import { z } from "zod";
import type { DirHandle, EntryType } from "../../platform/dir-handle.ts";
import { defineTool } from "../define-tool.ts";
import type { FsRoot } from "./fs-root.ts";

/** One directory entry as fs_list shows it. */
export interface ListedEntry {
  readonly name: string;
  readonly type: EntryType;
  readonly size?: number;
}

const maxEntries = 1000;

/**
 * Builds `fs_list`: the entries of a directory under the root, sorted by name. The directory is
 * opened relative to the root without following any link, and its entries and sizes are read
 * through that descriptor, so they belong to the directory that was checked.
 */
export function createFsListTool({ root }: { readonly root: FsRoot }) {
  return defineTool({
    name: "fs_list",
    idempotent: true,
    description: "List a directory under the tool root: names, types and sizes. Paths are relative to the root.",
    input: z.object({
      path: z.string().default(".").describe('Directory relative to the root; "." is the root itself'),
    }),
    run: ({ path }) =>
      root.listDir(path, (dir) => {
        const found = dir.entries(maxEntries);
        const entries = found.entries.map((entry) => listed(dir, entry.name, entry.type));
        entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        const more = found.more;
        return more > 0 ? { path, entries, truncated: `${more} more entries not shown` } : { path, entries };
      }),
  });
}

function listed(dir: DirHandle, name: string, known: EntryType | undefined): ListedEntry {
  if (known !== undefined && known !== "file") return { name, type: known };
  // Sizes, and types the file system did not give, come from the entry itself (never followed).
  let stat;
  try {
    stat = dir.stat(name);
  } catch {
    stat = undefined; // removed or unreadable meanwhile: list what readdir said
  }
  const type = known ?? stat?.type ?? "other";
  return type === "file" && stat?.type === "file" ? { name, type, size: stat.size } : { name, type };
}
