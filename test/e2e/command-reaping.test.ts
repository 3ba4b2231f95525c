import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../helpers/processes.ts";
import { isReaped, pidsRunning, uniqueSleep } from "../helpers/process-search.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { cleanEnv, runSkiff, skiffBinary } from "./binary.ts";

// Linux only: elsewhere only the command's process group is killed (docs/tools.md).
const linux = process.platform === "linux";
const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-e2e-reap-");
let dir: string;
let configPath: string;
// The binary runs with a PATH of basic programs only (binary.ts), so setsid by its full path.
const setsid = Bun.which("setsid") ?? "/usr/bin/setsid";
const orphanSleep = uniqueSleep();
const daemonSleep = uniqueSleep();

beforeAll(async () => {
  await skiffBinary();
  dir = tempDir();
  configPath = join(dir, "skiff.toml");
  // The attack: an orphan in a new session inherits stdout; and a daemon left behind by a
  // command that then hangs until its timeout.
  const orphan = `${setsid} sh -c 'echo $$ > orphan.pid; exec sleep ${orphanSleep}' & while [ ! -s orphan.pid ]; do sleep 0.01; done; echo ok`;
  const daemon = `( ${setsid} sh -c 'echo $$ > daemon.pid; exec sleep ${daemonSleep}' </dev/null >/dev/null 2>&1 & ) ; while [ ! -s daemon.pid ]; do sleep 0.01; done; sleep 30`;
  writeFileSync(
    configPath,
    `[[tools.command]]
name = "orphan"
description = "Leaves a process in a new session holding stdout"
argv = ["sh", "-c", ${JSON.stringify(orphan)}]
cwd = ${JSON.stringify(dir)}

[[tools.command]]
name = "daemon"
description = "Starts a double-forked daemon, then hangs"
argv = ["sh", "-c", ${JSON.stringify(daemon)}]
cwd = ${JSON.stringify(dir)}
timeout = "2s"
`,
  );
}, 180_000);

afterAll(() => {
  // Only when a test failed is anything left: our own sleeps, found by their unique duration.
  for (const pid of [orphanSleep, daemonSleep].flatMap((duration) => pidsRunning(["sleep", duration]))) process.kill(pid, "SIGKILL");
  removeTempDirs();
});

const pidIn = (file: string) => Number(readFileSync(join(dir, file), "utf8").trim());

describe.skipIf(!linux)("command tool processes (compiled binary)", () => {
  it("answers ok at once though an orphan in a new session holds stdout, and the orphan is gone", async () => {
    const result = await runSkiff(["tools", "call", "orphan", "{}", "--config", configPath], { env: cleanEnv() });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe("ok");
    const pid = pidIn("orphan.pid");
    await waitFor(() => isReaped(pid), 5000, `orphan ${pid} to be gone`);
    expect(pidsRunning(["sleep", orphanSleep])).toEqual([]);
  }, 30_000);

  it("kills a double-forked daemon when the command times out", async () => {
    const result = await runSkiff(["tools", "call", "daemon", "{}", "--config", configPath], { env: cleanEnv() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("did not finish within 2s");
    const pid = pidIn("daemon.pid");
    await waitFor(() => isReaped(pid), 5000, `daemon ${pid} to be gone`);
    expect(pidsRunning(["sleep", daemonSleep])).toEqual([]);
  }, 30_000);
});
