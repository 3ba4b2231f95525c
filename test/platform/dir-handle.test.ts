/**
 * The descriptor-relative file system layer under the fs tools: the open flags are this machine's,
 * both ways of resolving a path below a directory (openat2 and the openat walk that macOS and older
 * kernels use) refuse every symbolic link, and a handle keeps pointing at the directory it opened
 * when that directory is moved and a link put in its place.
 */
import { afterEach, describe, expect, it } from "bun:test";
import { closeSync, constants, fstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openRootDir } from "../../src/platform/dir-handle.ts";
import { openBeneath, walkBeneath } from "../../src/platform/dir-handle-posix.ts";
import { FsCallError } from "../../src/platform/fs-call-error.ts";
import { openAt } from "../../src/platform/libc-fs.ts";
import { openFlagsFor } from "../../src/platform/open-flags.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";

const { make: tempDir, removeAll } = createTempDirs("skiff-dir-handle-");
afterEach(removeAll);

const posix = process.platform !== "win32";
const flags = openFlagsFor(process.platform, process.arch)!;

describe.skipIf(!posix)("openFlagsFor", () => {
  it("matches fs.constants on this machine for every flag node knows", () => {
    for (const name of ["O_RDONLY", "O_WRONLY", "O_CREAT", "O_EXCL", "O_NONBLOCK", "O_DIRECTORY", "O_NOFOLLOW"] as const) {
      expect({ name, value: flags[name] }).toEqual({ name, value: constants[name] });
    }
  });

  it.skipIf(process.platform !== "linux")("gives the kernel's O_CLOEXEC and O_PATH (read back from /proc/self/fdinfo)", () => {
    const dir = tempDir();
    const fd = openAt(flags.AT_FDCWD, dir, flags.statOnly | flags.O_DIRECTORY | flags.O_CLOEXEC);
    try {
      const open = Number.parseInt(/^flags:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))![1]!, 8);
      expect(open & flags.O_CLOEXEC).toBe(flags.O_CLOEXEC);
      expect(open & flags.statOnly).toBe(flags.statOnly);
    } finally {
      closeSync(fd);
    }
  });

  it("keeps aarch64 Linux's own O_DIRECTORY and O_NOFOLLOW (they are O_DIRECT and O_LARGEFILE on x86_64)", () => {
    const arm = openFlagsFor("linux", "arm64")!;
    const x64 = openFlagsFor("linux", "x64")!;
    expect([arm.O_DIRECTORY, arm.O_NOFOLLOW]).toEqual([0o40000, 0o100000]);
    expect([x64.O_DIRECTORY, x64.O_NOFOLLOW]).toEqual([0o200000, 0o400000]);
    expect(openFlagsFor("darwin", "arm64")).toMatchObject({ O_DIRECTORY: 0x100000, O_NOFOLLOW: 0x100, O_CREAT: 0x200, AT_FDCWD: -2 });
    expect(openFlagsFor("win32", "x64")).toBeUndefined();
  });
});

/** root/{a/file.txt, a/b/, to-a → a, out → outside, a/link.txt → file.txt}, outside/secret. */
function tree() {
  const base = tempDir();
  const root = join(base, "root");
  mkdirSync(join(root, "a", "b"), { recursive: true });
  mkdirSync(join(base, "outside"));
  writeFileSync(join(root, "a", "file.txt"), "inside");
  writeFileSync(join(base, "outside", "secret"), "outside");
  symlinkSync(join(root, "a"), join(root, "to-a"));
  symlinkSync(join(base, "outside"), join(root, "out"));
  symlinkSync("file.txt", join(root, "a", "link.txt"));
  return { base, root };
}

function failure(open: () => number): string {
  try {
    closeSync(open());
  } catch (error) {
    expect(error).toBeInstanceOf(FsCallError);
    expect((error as Error).message).not.toContain("/");
    return (error as FsCallError).code;
  }
  return "opened";
}

for (const [label, resolve] of [
  ["openBeneath", openBeneath],
  ["walkBeneath (the openat walk)", walkBeneath],
] as const) {
  describe.skipIf(!posix)(label, () => {
    it("opens plain paths and refuses a link at any component, inside the root or out", () => {
      const { root } = tree();
      const rootFd = openAt(flags.AT_FDCWD, root, flags.dirAnchor | flags.O_DIRECTORY | flags.O_CLOEXEC);
      try {
        const read = flags.O_RDONLY | flags.O_NONBLOCK;
        const fd = resolve(rootFd, ["a", "file.txt"], read, flags);
        expect(fstatSync(fd).size).toBe(6);
        closeSync(fd);
        expect(failure(() => resolve(rootFd, ["a", "b"], read | flags.O_DIRECTORY, flags))).toBe("opened");
        expect(failure(() => resolve(rootFd, [], read | flags.O_DIRECTORY, flags))).toBe("opened");
        expect(failure(() => resolve(rootFd, ["out", "secret"], read, flags))).toBe("ELOOP");
        expect(failure(() => resolve(rootFd, ["to-a", "file.txt"], read, flags))).toBe("ELOOP");
        expect(failure(() => resolve(rootFd, ["a", "link.txt"], read, flags))).toBe("ELOOP");
        expect(failure(() => resolve(rootFd, ["out"], read | flags.O_DIRECTORY, flags))).toBe("ELOOP");
        expect(failure(() => resolve(rootFd, ["to-a"], flags.dirAnchor | flags.O_DIRECTORY, flags))).toBe("ELOOP");
        expect(failure(() => resolve(rootFd, ["a", "file.txt", "x"], read, flags))).toBe("ENOTDIR");
        expect(failure(() => resolve(rootFd, ["a", "missing"], read, flags))).toBe("ENOENT");
      } finally {
        closeSync(rootFd);
      }
    });
  });
}

describe.skipIf(!posix)("DirHandle", () => {
  it("keeps listing, creating and renaming in the directory it opened after that is swapped for a link", () => {
    const { base, root } = tree();
    const rootDir = openRootDir(root);
    const dir = rootDir.openDir(["a"], "list");
    try {
      // The attack: the opened directory moves away and a link to outside takes its name.
      renameSync(join(root, "a"), join(root, "moved"));
      symlinkSync(join(base, "outside"), join(root, "a"));
      expect(dir.entries(10).entries.map((entry) => entry.name).sort()).toEqual(["b", "file.txt", "link.txt"]);
      expect(dir.stat("link.txt")?.type).toBe("symlink");
      expect(dir.stat("file.txt")).toMatchObject({ type: "file", size: 6 });
      const fd = dir.createFile(".new.tmp", 0o600);
      closeSync(fd);
      dir.rename(".new.tmp", "new.txt");
      dir.makeDir("c");
      expect(readFileSync(join(root, "moved", "new.txt"), "utf8")).toBe("");
      expect(statSync(join(root, "moved", "c")).isDirectory()).toBe(true);
      expect(readdirSync(join(base, "outside"))).toEqual(["secret"]);
      expect(failure(() => rootDir.openFile(["a", "secret"]))).toBe("ELOOP");
    } finally {
      dir.close();
      rootDir.close();
    }
  });

  it("counts entries past the limit without returning them", () => {
    const dir = tempDir();
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, `f${i}`), "");
    const rootDir = openRootDir(dir);
    const handle = rootDir.openDir([], "list");
    try {
      const { entries, more } = handle.entries(3);
      expect(entries).toHaveLength(3);
      expect(more).toBe(2);
    } finally {
      handle.close();
      rootDir.close();
    }
  });
});
