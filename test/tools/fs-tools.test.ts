import { afterEach, beforeEach, describe, expect, it } from "bun:test";
import {
  chmodSync,
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/errors.ts";
import { type DirHandle, openRootDir } from "../../src/platform/dir-handle.ts";
import { replaceFile } from "../../src/tools/builtin/fs-write.ts";
import { type BuiltinToolOptions, builtinToolFactories } from "../../src/tools/builtin/index.ts";
import { createSemaphore } from "../../src/util/semaphore.ts";
import { selectTools } from "../../src/tools/select-tools.ts";
import { type Tool, ToolFailure, ToolInputError } from "../../src/tools/tool.ts";

let base: string;
let root: string;
let outside: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "skiff-fs-"));
  root = join(base, "root");
  outside = join(base, "outside");
  mkdirSync(join(root, "notes"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, "notes", "todo.txt"), "buy milk\n");
  writeFileSync(join(outside, "secret.txt"), "the password");
});
afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

function tools(options: Partial<BuiltinToolOptions> = {}, enable = ["fs_read", "fs_list", "fs_write"]): Map<string, Tool> {
  const builtins = builtinToolFactories({
    fsRoot: root,
    fsWrite: true,
    fsMaxBytes: 1024,
    allowHosts: [],
    fetchMaxResponse: 1024,
    timeoutMs: 1000,
    outbound: createSemaphore(8),
    ...options,
  });
  return new Map(selectTools({ builtins, enable, disable: [] }).map((tool) => [tool.name, tool]));
}

const ctx = () => ({ signal: new AbortController().signal, callId: "c" });

async function error(promise: Promise<unknown>): Promise<Error> {
  const caught = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(caught).toBeInstanceOf(Error);
  return caught as Error;
}

describe("fs tools confinement", () => {
  it("refuses .. that climbs out and absolute paths", async () => {
    const read = tools().get("fs_read")!;
    for (const path of ["../outside/secret.txt", "notes/../../outside/secret.txt", ".."]) {
      const refused = await error(read.execute({ path }, ctx()));
      expect(refused).toBeInstanceOf(ToolInputError);
      expect(refused.message).toContain("leads outside the root");
    }
    const absolute = await error(read.execute({ path: join(outside, "secret.txt") }, ctx()));
    expect(absolute.message).toContain("is absolute; give a path relative to the root");
    // `..` that stays inside is just a path.
    expect(await read.execute({ path: "notes/../notes/todo.txt" }, ctx())).toBe("buy milk\n");
  });

  it("refuses symlinks that leave the root, for reading, listing and writing", async () => {
    symlinkSync(outside, join(root, "escape"));
    symlinkSync(join(outside, "secret.txt"), join(root, "secret-link.txt"));
    const all = tools();
    const refusals = [
      await error(all.get("fs_read")!.execute({ path: "escape/secret.txt" }, ctx())),
      await error(all.get("fs_read")!.execute({ path: "secret-link.txt" }, ctx())),
      await error(all.get("fs_list")!.execute({ path: "escape" }, ctx())),
      await error(all.get("fs_write")!.execute({ path: "escape/new.txt", content: "x" }, ctx())),
      await error(all.get("fs_write")!.execute({ path: "escape/deep/new.txt", content: "x", create_dirs: true }, ctx())),
    ];
    expect(refusals.map((refused) => refused.message)).toEqual([
      'path: "escape/secret.txt" goes through a symbolic link; fs tools do not follow links',
      'path: "secret-link.txt" goes through a symbolic link; fs tools do not follow links',
      'path: "escape" goes through a symbolic link; fs tools do not follow links',
      'path: "escape/new.txt" goes through a symbolic link; fs tools do not follow links',
      'path: "escape/deep/new.txt" goes through a symbolic link; fs tools do not follow links',
    ]);
    expect(refusals.map((refused) => (refused as ToolFailure).code)).toEqual(Array(5).fill("fs_symlink"));
    expect(readdirSync(outside)).toEqual(["secret.txt"]);
  });

  it("refuses symlinks that stay inside the root too, at any component", async () => {
    symlinkSync(join(root, "notes"), join(root, "shortcut"));
    symlinkSync("todo.txt", join(root, "notes", "alias.txt"));
    mkdirSync(join(root, "notes", "sub"));
    const all = tools();
    const linked = /goes through a symbolic link; fs tools do not follow links/;
    expect((await error(all.get("fs_read")!.execute({ path: "shortcut/todo.txt" }, ctx()))).message).toMatch(linked);
    expect((await error(all.get("fs_read")!.execute({ path: "notes/alias.txt" }, ctx()))).message).toMatch(linked);
    expect((await error(all.get("fs_list")!.execute({ path: "shortcut/sub" }, ctx()))).message).toMatch(linked);
    expect((await error(all.get("fs_write")!.execute({ path: "shortcut/sub/new.txt", content: "x" }, ctx()))).message).toMatch(linked);
    expect((await error(all.get("fs_write")!.execute({ path: "shortcut/a/b.txt", content: "x", create_dirs: true }, ctx()))).message).toMatch(
      linked,
    );
    expect(readdirSync(join(root, "notes")).sort()).toEqual(["alias.txt", "sub", "todo.txt"]);
    // The real path still works.
    expect(await all.get("fs_read")!.execute({ path: "notes/todo.txt" }, ctx())).toBe("buy milk\n");
  });

  it("never shows a host path in an error (an absolute path the model gave is only echoed back)", async () => {
    symlinkSync(outside, join(root, "escape"));
    writeFileSync(join(root, "notes", "locked.txt"), "x");
    chmodSync(join(root, "notes", "locked.txt"), 0o000);
    const all = tools();
    const calls: [string, Record<string, unknown>][] = [
      ["fs_read", { path: "missing.txt" }],
      ["fs_read", { path: "escape/secret.txt" }],
      ["fs_read", { path: "notes/todo.txt/more" }],
      ["fs_read", { path: "notes" }],
      ["fs_read", { path: "../outside/secret.txt" }],
      ["fs_list", { path: "notes/todo.txt" }],
      ["fs_list", { path: "missing" }],
      ["fs_list", { path: "escape" }],
      ["fs_write", { path: "missing/x.txt", content: "x" }],
      ["fs_write", { path: "notes", content: "x" }],
      ["fs_write", { path: "notes/todo.txt/x", content: "x", create_dirs: true }],
      ["fs_write", { path: "escape/x.txt", content: "x" }],
      ["fs_write", { path: `${"n".repeat(300)}.txt`, content: "x" }],
    ];
    if (process.getuid?.() !== 0) calls.push(["fs_read", { path: "notes/locked.txt" }]);
    for (const [name, args] of calls) {
      const refused = await error(all.get(name)!.execute(args, ctx()));
      expect({ name, args, message: refused.message }).toEqual({ name, args, message: expect.not.stringContaining(base) });
    }
  });

  it.skipIf(process.platform !== "linux")("closes every descriptor it opens, whether the call works or is refused", async () => {
    symlinkSync(outside, join(root, "escape"));
    const all = tools();
    const calls: [string, Record<string, unknown>][] = [
      ["fs_read", { path: "notes/todo.txt" }],
      ["fs_read", { path: "escape/secret.txt" }],
      ["fs_read", { path: "notes" }],
      ["fs_list", { path: "notes" }],
      ["fs_list", { path: "escape" }],
      ["fs_list", { path: "notes/todo.txt" }],
      ["fs_write", { path: "notes/new.txt", content: "x" }],
      ["fs_write", { path: "deep/er/new.txt", content: "x", create_dirs: true }],
      ["fs_write", { path: "escape/deep/new.txt", content: "x", create_dirs: true }],
      ["fs_write", { path: "notes", content: "x" }],
    ];
    const runAll = () => Promise.all(calls.map(([name, args]) => all.get(name)!.execute(args, ctx()).catch(() => undefined)));
    await runAll(); // the runtime opens what it keeps (thread pool, libc) on first use
    const before = readdirSync("/proc/self/fd").length;
    for (let round = 0; round < 20; round++) await runAll();
    expect(readdirSync("/proc/self/fd").length).toBe(before);
  });

  it("works when the root itself is a symlink", async () => {
    const linkedRoot = join(base, "linked-root");
    symlinkSync(root, linkedRoot);
    const all = tools({ fsRoot: linkedRoot });
    expect(await all.get("fs_read")!.execute({ path: "notes/todo.txt" }, ctx())).toBe("buy milk\n");
    await all.get("fs_write")!.execute({ path: "notes/new.txt", content: "hello" }, ctx());
    expect(readFileSync(join(root, "notes", "new.txt"), "utf8")).toBe("hello");
  });

  it("does not read a file with several hard links", async () => {
    linkSync(join(root, "notes", "todo.txt"), join(root, "notes", "todo-again.txt"));
    const refused = await error(tools().get("fs_read")!.execute({ path: "notes/todo-again.txt" }, ctx()));
    expect(refused.message).toContain("has 2 hard links");
  });
});

describe("fs tools configuration", () => {
  it("keeps fs_write off unless tools.fs_write is true", () => {
    expect(() => tools({ fsWrite: false }, ["fs_write"])).toThrow(ConfigError);
    expect(() => tools({ fsWrite: false }, ["fs_write"])).toThrow(/set tools\.fs_write = true/);
    expect(tools({ fsWrite: false }, ["fs_read"]).has("fs_read")).toBe(true);
  });

  it("needs fs_root, and an existing one, only when an fs tool is on", () => {
    expect(() => tools({ fsRoot: undefined }, ["fs_read"])).toThrow(/fs_read is enabled but fs_root is not set/);
    expect(() => tools({ fsRoot: join(base, "missing") }, ["fs_list"])).toThrow(/does not exist/);
    expect(tools({ fsRoot: undefined }, ["time"]).has("time")).toBe(true);
  });
});

describe("fs_write", () => {
  it("replaces a file atomically through a temporary file and a rename", async () => {
    const target = join(root, "notes", "todo.txt");
    // A hard link to the old file keeps the old content: the file was replaced, not written through.
    linkSync(target, join(base, "old-todo.txt"));
    const inodeBefore = statSync(target).ino;
    const result = await tools().get("fs_write")!.execute({ path: "notes/todo.txt", content: "buy bread\n" }, ctx());
    expect(result).toEqual({ path: "notes/todo.txt", bytes: 10, replaced: true });
    expect(readFileSync(target, "utf8")).toBe("buy bread\n");
    expect(readFileSync(join(base, "old-todo.txt"), "utf8")).toBe("buy milk\n");
    expect(statSync(target).ino).not.toBe(inodeBefore);
    expect(readdirSync(join(root, "notes")).filter((name) => name.includes("skiff-tmp"))).toEqual([]);
  });

  it("creates missing directories only when asked", async () => {
    const write = tools().get("fs_write")!;
    expect((await error(write.execute({ path: "a/b/c.txt", content: "x" }, ctx()))).message).toContain("create_dirs: true");
    await write.execute({ path: "a/b/c.txt", content: "x", create_dirs: true }, ctx());
    expect(readFileSync(join(root, "a", "b", "c.txt"), "utf8")).toBe("x");
  });

  it("removes its temporary file when the write or the rename fails", async () => {
    const target = join(root, "notes", "todo.txt");
    const rootDir = openRootDir(root);
    const notes = rootDir.openDir(["notes"], "anchor");
    try {
      // The rename meets a directory that appeared at the target after the check: the kernel refuses it.
      const renameFails = delegate(notes, {
        rename: (from, to) => {
          unlinkSync(target);
          mkdirSync(target);
          notes.rename(from, to);
        },
      });
      const refused = await error(replaceFile(renameFails, "todo.txt", Buffer.from("new"), "notes/todo.txt"));
      expect(refused.message).toBe('path: "notes/todo.txt" cannot be used (EISDIR)');
      expect(readdirSync(join(root, "notes"))).toEqual(["todo.txt"]);
      rmSync(target, { recursive: true });

      // The content cannot be written: the descriptor handed back is read-only.
      writeFileSync(target, "buy milk\n");
      const writeFails = delegate(notes, {
        createFile: (name, mode) => {
          closeSync(notes.createFile(name, mode));
          return notes.openFile([name]);
        },
      });
      const failed = await error(replaceFile(writeFails, "todo.txt", Buffer.from("new"), "notes/todo.txt"));
      expect(failed.message).toBe('path: "notes/todo.txt" cannot be used (EBADF)');
      expect(readdirSync(join(root, "notes"))).toEqual(["todo.txt"]);
      expect(readFileSync(target, "utf8")).toBe("buy milk\n");
    } finally {
      notes.close();
      rootDir.close();
    }
  });

  it("refuses content over the size limit and symlink targets", async () => {
    const write = tools().get("fs_write")!;
    expect(await error(write.execute({ path: "big.txt", content: "x".repeat(2000) }, ctx()))).toBeInstanceOf(ToolInputError);
    symlinkSync(join(root, "notes", "todo.txt"), join(root, "link.txt"));
    expect((await error(write.execute({ path: "link.txt", content: "x" }, ctx()))).message).toContain("is a symbolic link");
    expect(existsSync(join(root, "big.txt"))).toBe(false);
  });
});

/** `dir` with some operations replaced. */
function delegate(dir: DirHandle, overrides: Partial<DirHandle>): DirHandle {
  return {
    openFile: (parts) => dir.openFile(parts),
    openDir: (parts, purpose) => dir.openDir(parts, purpose),
    createFile: (name, mode) => dir.createFile(name, mode),
    stat: (name) => dir.stat(name),
    makeDir: (name) => dir.makeDir(name),
    rename: (from, to) => dir.rename(from, to),
    unlink: (name) => dir.unlink(name),
    entries: (limit) => dir.entries(limit),
    close: () => dir.close(),
    ...overrides,
  };
}

describe("fs_read and fs_list", () => {
  it("reads large files a page at a time", async () => {
    writeFileSync(join(root, "long.txt"), "a".repeat(1500));
    const read = tools().get("fs_read")!;
    const first = (await read.execute({ path: "long.txt" }, ctx())) as string;
    expect(first).toBe(`${"a".repeat(1024)}\n…[bytes 0–1024 of 1500; call fs_read with offset=1024 for more]`);
    expect(await read.execute({ path: "long.txt", offset: 1024 }, ctx())).toBe("a".repeat(476));
  });

  it("refuses binary files and directories", async () => {
    writeFileSync(join(root, "blob.bin"), new Uint8Array([1, 0, 2]));
    const read = tools().get("fs_read")!;
    expect(await error(read.execute({ path: "blob.bin" }, ctx()))).toBeInstanceOf(ToolFailure);
    expect((await error(read.execute({ path: "notes" }, ctx()))).message).toContain("is a directory; use fs_list");
  });

  it.skipIf(process.platform === "win32")("refuses a FIFO without waiting for a writer", async () => {
    expect(Bun.spawnSync(["mkfifo", join(root, "pipe")]).exitCode).toBe(0);
    const refused = await error(tools().get("fs_read")!.execute({ path: "pipe" }, ctx()));
    expect(refused.message).toBe('path: "pipe" is not a regular file');
  });

  it("tells a file from a directory when listing", async () => {
    const refused = await error(tools().get("fs_list")!.execute({ path: "notes/todo.txt" }, ctx()));
    expect(refused.message).toBe('path: "notes/todo.txt" is a file; use fs_read');
  });

  it("lists a directory with types and sizes", async () => {
    symlinkSync(join(root, "notes"), join(root, "shortcut"));
    const listed = await tools().get("fs_list")!.execute({}, ctx());
    expect(listed).toEqual({ path: ".", entries: [{ name: "notes", type: "dir" }, { name: "shortcut", type: "symlink" }] });
    expect(await tools().get("fs_list")!.execute({ path: "notes" }, ctx())).toEqual({
      path: "notes",
      entries: [{ name: "todo.txt", type: "file", size: 9 }],
    });
  });
});
