// Issue 15, item 1, against the compiled binary: while a local process swaps a directory inside
// fs_root with a symlink to a directory outside it (renameat2 RENAME_EXCHANGE in a tight loop), the
// model's parallel fs_write and fs_read calls through that directory must never touch, create or
// read anything outside the root, and must leave no temporary file anywhere. Whether a given call
// lands while the link is in place is up to the scheduler, so the test asserts invariants that hold
// whatever the interleaving, and prints how many calls succeeded and how many were refused.
import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeOpenAIs, type FakeToolCall, reply } from "../fakes/fake-openai-server.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { skiffBinary } from "./binary.ts";
import { startServe, stopAllServes } from "./serve-process.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-fs-race-");
const { start: startFake, stopAll: stopFakes } = createFakeOpenAIs();
const racers: ReturnType<typeof Bun.spawn>[] = [];

beforeAll(async () => {
  await skiffBinary();
}, 180_000);

afterEach(async () => {
  for (const racer of racers.splice(0)) racer.kill("SIGKILL");
  await stopAllServes();
  await stopFakes();
  removeTempDirs();
});

/** Every entry under `dir` (links not followed) as "relative path → what it is", for comparing before and after. */
function snapshot(dir: string, prefix = ""): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const key = `${prefix}${name}`;
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) entries[key] = `link → ${readlinkSync(path)}`;
    else if (stat.isDirectory()) Object.assign(entries, { [key]: "dir" }, snapshot(path, `${key}/`));
    else entries[key] = `file ${stat.mode.toString(8)} ino ${stat.ino}: ${readFileSync(path, "utf8")}`;
  }
  return entries;
}

function tempFiles(dir: string): string[] {
  return Object.keys(snapshot(dir)).filter((path) => path.includes(".skiff-tmp"));
}

interface ToolCallResult {
  readonly name: string;
  readonly arguments: string;
  readonly ok: boolean;
  readonly output: string;
}

const writesPerRun = 16;
const deepWritesPerRun = 8;
const readsPerRun = 16;

/** One step of parallel calls through `racedir`, then a final answer once the results are back. */
function raceScript(request: { body: Readonly<Record<string, unknown>> | undefined }) {
  const messages = (request.body?.["messages"] ?? []) as { role: string }[];
  if (messages.at(-1)?.role === "tool") return reply.text("done");
  const calls: FakeToolCall[] = [
    ...Array.from({ length: writesPerRun }, (_, i) => ({ name: "fs_write", arguments: JSON.stringify({ path: "racedir/victim.txt", content: `written by skiff ${i}` }) })),
    ...Array.from({ length: deepWritesPerRun }, () => ({
      name: "fs_write",
      arguments: JSON.stringify({ path: "racedir/new/deep.txt", content: "deep", create_dirs: true }),
    })),
    ...Array.from({ length: readsPerRun }, () => ({ name: "fs_read", arguments: JSON.stringify({ path: "racedir/secret" }) })),
  ];
  return reply.toolCalls(calls.map((call, i) => ({ ...call, id: `call_${i}` })));
}

async function run(url: string): Promise<ToolCallResult[]> {
  const response = await fetch(`${url}/v1/runs`, { method: "POST", body: JSON.stringify({ input: "go" }) });
  const body = (await response.json()) as { steps?: { tool_calls: ToolCallResult[] }[]; error?: unknown };
  if (response.status !== 200) throw new Error(`run failed with ${response.status}: ${JSON.stringify(body)}`);
  return body.steps!.flatMap((step) => step.tool_calls);
}

describe("fs tools under a symlink swap race (compiled binary)", () => {
  it(
    "never writes, creates or reads outside fs_root and leaves no temporary files",
    async () => {
      if (process.platform !== "linux") return; // renameat2 is Linux's; the walk elsewhere is covered by unit tests
      const base = tempDir();
      const root = join(base, "root");
      const outside = join(base, "outside");
      mkdirSync(join(root, "racedir"), { recursive: true });
      mkdirSync(outside);
      writeFileSync(join(root, "racedir", "victim.txt"), "inside victim\n");
      writeFileSync(join(root, "racedir", "secret"), "inside secret\n");
      writeFileSync(join(outside, "victim.txt"), "OUTSIDE ORIGINAL\n");
      writeFileSync(join(outside, "secret"), "OUTSIDE SECRET\n");
      symlinkSync(outside, join(root, ".swap"));
      const outsideBefore = snapshot(outside);

      const config = join(base, "skiff.toml");
      writeFileSync(config, `[tools]\nenable = ["fs_read", "fs_write"]\nfs_root = ${JSON.stringify(root)}\nfs_write = true\n`);
      const fake = startFake(raceScript);
      const server = await startServe({ args: ["--config", config, "--base-url", fake.url, "--model", "m", "--sessions", "memory"] });

      const stopFile = join(base, "stop");
      const racer = Bun.spawn(
        [process.execPath, join(import.meta.dir, "../fixtures/swap-racer.ts"), join(root, "racedir"), join(root, ".swap"), stopFile, "50000000", "4000"],
        { stdout: "pipe", stderr: "inherit" },
      );
      racers.push(racer);
      const racerOutput = new Response(racer.stdout).text();
      let racerDone = false;
      void racer.exited.then(() => (racerDone = true));

      // Runs go on while the racer swaps (it stops itself after 4 s); bounded in count as well.
      const results: ToolCallResult[] = [];
      for (let round = 0; round < 200 && (round === 0 || !racerDone); round++) {
        const batch = await Promise.all([run(server.url), run(server.url)]);
        results.push(...batch.flat());
      }
      writeFileSync(stopFile, "");
      expect(await racer.exited).toBe(0);
      const { swaps } = JSON.parse((await racerOutput).trim().split("\n").at(-1)!) as { swaps: number };

      const writes = results.filter((r) => r.name === "fs_write");
      const reads = results.filter((r) => r.name === "fs_read");
      const count = (list: ToolCallResult[]) => `${list.filter((r) => r.ok).length} ok, ${list.filter((r) => !r.ok).length} refused`;
      console.log(`fs race: ${swaps} swaps; fs_write ${count(writes)}; fs_read ${count(reads)}`);

      expect(swaps).toBeGreaterThan(0);
      expect(results.length).toBeGreaterThan(0);
      // Nothing outside changed: the victim keeps its content and inode, nothing was created.
      expect(snapshot(outside)).toEqual(outsideBefore);
      // No temporary file was left behind, inside the root or out.
      expect(tempFiles(base)).toEqual([]);
      // fs_read never returned the outside file.
      expect(reads.filter((r) => r.output.includes("OUTSIDE SECRET"))).toEqual([]);
      // Every refusal says why without naming a host path.
      for (const failed of results.filter((r) => !r.ok)) {
        expect(failed.output).not.toContain(base);
        expect(failed.output).toMatch(/symbolic link|is not a directory|does not exist/);
      }

      // With the race over, the same calls all work.
      expect(lstatSync(join(root, "racedir")).isDirectory()).toBe(true);
      const after = await run(server.url);
      expect(after.filter((r) => !r.ok)).toEqual([]);
      expect(readFileSync(join(root, "racedir", "new", "deep.txt"), "utf8")).toBe("deep");
      expect(readFileSync(join(root, "racedir", "victim.txt"), "utf8")).toMatch(/^written by skiff \d+$/);
      expect(existsSync(join(outside, "new"))).toBe(false);
    },
    120_000,
  );
});
