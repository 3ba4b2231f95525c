import { afterEach, describe, expect, it } from "bun:test";
import { childrenReader, environHasAny, readStat } from "../../src/platform/procfs.ts";

const linux = process.platform === "linux";
const children: ReturnType<typeof Bun.spawn>[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
    await child.exited;
  }
});

function spawnSleeping(env: Record<string, string>) {
  const child = Bun.spawn(["sleep", "30"], { env, stdout: "ignore", stderr: "ignore" });
  children.push(child);
  return child;
}

describe.skipIf(!linux)("environHasAny", () => {
  it("matches a whole NAME=value entry only, never a prefix, a suffix or another name", () => {
    const { pid } = spawnSleeping({ PATH: process.env["PATH"] ?? "/usr/bin:/bin", XTAG: "ab", TAG: "abc", OTHER: "TAG=zzz" });
    expect(environHasAny(pid, ["TAG=abc"])).toBe(true);
    expect(environHasAny(pid, ["TAG=ab"])).toBe(false);
    expect(environHasAny(pid, ["TAG=abcd"])).toBe(false);
    expect(environHasAny(pid, ["AG=abc"])).toBe(false);
    expect(environHasAny(pid, ["TAG=zzz"])).toBe(false);
    expect(environHasAny(pid, ["TAG=nope", "XTAG=ab"])).toBe(true);
  });

  it("answers false for a process that is gone", async () => {
    const child = Bun.spawn(["true"]);
    await child.exited;
    expect(environHasAny(child.pid, ["PATH=/usr/bin"])).toBe(false);
  });
});

describe.skipIf(!linux)("readStat and childrenReader", () => {
  it("see a child with its parent and session, and a detached one leading its own session", () => {
    const attached = spawnSleeping({});
    const detached = Bun.spawn(["sleep", "30"], { detached: true, stdout: "ignore", stderr: "ignore" });
    children.push(detached);
    const own = readStat(process.pid)!;
    expect(readStat(attached.pid)).toMatchObject({ ppid: process.pid, sid: own.sid });
    expect(readStat(detached.pid)).toMatchObject({ ppid: process.pid, sid: detached.pid });
    expect(childrenReader()(process.pid)).toEqual(expect.arrayContaining([attached.pid, detached.pid]));
  });
});
