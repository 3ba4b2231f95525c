import { afterEach, describe, expect, it } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commandToolEntry } from "../../src/config/sections/tools.ts";
import { reapAdopted } from "../../src/platform/process-reaper.ts";
import { createCommandTool } from "../../src/tools/command-tool.ts";
import { GroupStdioTransport } from "../../src/tools/mcp/stdio-transport.ts";
import { ToolFailure } from "../../src/tools/tool.ts";
import { isAlive, waitFor } from "../helpers/processes.ts";
import { isReaped, pidsRunning, uniqueSleep } from "../helpers/process-search.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";

// Linux only: elsewhere a command's process group is all skiff can reach (docs/tools.md).
const linux = process.platform === "linux";
const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-reap-");
const sleepsUsed: string[] = [];

afterEach(() => {
  // Only when a test failed is anything left: our own sleeps, found by their unique duration.
  for (const pid of sleepsUsed.splice(0).flatMap((duration) => pidsRunning(["sleep", duration]))) process.kill(pid, "SIGKILL");
  removeTempDirs();
});

/** A sleep duration for this test alone, so its processes can be found by command line. */
function newSleep(): string {
  const duration = uniqueSleep();
  sleepsUsed.push(duration);
  return duration;
}

/** A command tool that runs the shell script it is given as its `script` argument. */
function shellTool(dir: string, timeout = "20s") {
  const parameters = { type: "object", properties: { script: { type: "string" } }, required: ["script"] };
  return createCommandTool(commandToolEntry.parse({ name: "shell", description: "test", argv: ["sh", "-c", "{script}"], parameters, timeout }), {
    secrets: { env: {}, readFile: () => undefined },
    defaultTimeoutMs: 20_000,
    path: process.env["PATH"],
    cwd: dir,
  });
}

const context = (signal = new AbortController().signal) => ({ signal, callId: "c1" });

/** A shell line that starts `sleep duration` in a session of its own and writes its pid to `file`. */
const setsidSleep = (duration: string, file: string) => `setsid sh -c 'echo $$ > ${file}; exec sleep ${duration}' &`;
/** The classic daemon: a subshell starts it and exits at once, so it is orphaned immediately. */
const doubleFork = (duration: string, file: string) =>
  `( setsid sh -c 'echo $$ > ${file}; exec sleep ${duration}' </dev/null >/dev/null 2>&1 & ) ;`;
const waitForPidFiles = (files: string[]) => `while [ ! -s ${files[0]} ] || [ ! -s ${files.at(-1)} ]; do sleep 0.01; done;`;

const written = (file: string) => existsSync(file) && readFileSync(file, "utf8").trim() !== "";

const readPid = (file: string) => Number(readFileSync(file, "utf8").trim());

async function expectGone(pids: number[], durations: string[]): Promise<void> {
  await waitFor(() => pids.every(isReaped), 5000, `pids ${pids.join(", ")} to be killed and reaped`);
  for (const duration of durations) expect(pidsRunning(["sleep", duration])).toEqual([]);
}

describe.skipIf(!linux)("command tools leave no process behind", () => {
  it("answers promptly when an orphan in a new session holds stdout, and kills the orphan", async () => {
    const dir = tempDir();
    const duration = newSleep();
    const file = join(dir, "orphan.pid");
    // The attack as reported: the orphan inherits stdout, so waiting for EOF waited for it.
    const script = `${setsidSleep(duration, file)} ${waitForPidFiles([file])} echo ok`;
    expect(await shellTool(dir).execute({ script }, context())).toBe("ok\n");
    await expectGone([readPid(file)], [duration]);
  }, 30_000);

  it("kills a setsid'd grandchild and a double-forked daemon on timeout", async () => {
    const dir = tempDir();
    const [grandchild, daemon] = [newSleep(), newSleep()];
    const files = [join(dir, "grandchild.pid"), join(dir, "daemon.pid")];
    const ready = join(dir, "ready");
    const script = `${setsidSleep(grandchild, files[0]!)} ${doubleFork(daemon, files[1]!)} ${waitForPidFiles(files)} : > ${ready}; sleep 30`;
    const error = await shellTool(dir, "3s").execute({ script }, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolFailure);
    expect((error as Error).message).toContain("did not finish within 3s");
    // The script got as far as starting both before the timeout (else this test proves nothing).
    expect(existsSync(ready)).toBe(true);
    await expectGone(files.map(readPid), [grandchild, daemon]);
  }, 30_000);

  it("kills a setsid'd grandchild and a double-forked daemon when the caller aborts", async () => {
    const dir = tempDir();
    const [grandchild, daemon] = [newSleep(), newSleep()];
    const files = [join(dir, "grandchild.pid"), join(dir, "daemon.pid")];
    const ready = join(dir, "ready");
    const script = `${setsidSleep(grandchild, files[0]!)} ${doubleFork(daemon, files[1]!)} ${waitForPidFiles(files)} : > ${ready}; sleep 30`;
    const controller = new AbortController();
    const running = shellTool(dir).execute({ script }, context(controller.signal)).catch((e: unknown) => e);
    await waitFor(() => existsSync(ready), 10_000, "both processes to start");
    const pids = files.map(readPid);
    expect(pids.every(isAlive)).toBe(true);
    controller.abort(new Error("run cancelled"));
    expect(((await running) as Error).message).toBe("run cancelled");
    await expectGone(pids, [grandchild, daemon]);
  }, 30_000);

  it("cancelling one call kills only its own processes; the other's live until that call ends", async () => {
    const dir = tempDir();
    const [sleepA, sleepB] = [newSleep(), newSleep()];
    const [fileA, fileB] = [join(dir, "a.pid"), join(dir, "b.pid")];
    const release = join(dir, "release");
    const tool = shellTool(dir);
    const scriptA = `${setsidSleep(sleepA, fileA)} sleep 30`;
    const scriptB = `${setsidSleep(sleepB, fileB)} while [ ! -e ${release} ]; do sleep 0.01; done; echo b done`;
    const controllerA = new AbortController();
    const runningA = tool.execute({ script: scriptA }, context(controllerA.signal)).catch((e: unknown) => e);
    const runningB = tool.execute({ script: scriptB }, context());
    await waitFor(() => [fileA, fileB].every(written), 10_000, "both calls' processes");
    const [pidA, pidB] = [readPid(fileA), readPid(fileB)];

    controllerA.abort(new Error("cancel A"));
    expect(((await runningA) as Error).message).toBe("cancel A");
    await expectGone([pidA], [sleepA]);
    expect(isAlive(pidB)).toBe(true);
    expect(pidsRunning(["sleep", sleepB])).toEqual([pidB]);

    writeFileSync(release, "");
    expect(await runningB).toBe("b done\n");
    await expectGone([pidB], [sleepB]);
  }, 30_000);

  it("kills a loop that double-forks daemons as fast as it can, pass after pass", async () => {
    const dir = tempDir();
    const duration = newSleep();
    // Bounded, so a failure leaves at most 2,000 sleeps (and afterEach kills those).
    const storm = `i=0; while [ $i -lt 2000 ]; do ( sleep ${duration} & ) ; i=$((i+1)); done`;
    const script = `setsid sh -c '${storm}' & sleep 30`;
    const controller = new AbortController();
    const running = shellTool(dir).execute({ script }, context(controller.signal)).catch((e: unknown) => e);
    await waitFor(() => pidsRunning(["sleep", duration]).length >= 20, 10_000, "the loop to get going");
    const seen = pidsRunning(["sleep", duration]);
    controller.abort(new Error("stop"));
    expect(((await running) as Error).message).toBe("stop");
    // The call returned only once a pass found nothing left alive.
    expect(pidsRunning(["sleep", duration])).toEqual([]);
    await expectGone(seen, []);
  }, 30_000);

  it("leaves no zombie when orphans exit on their own before the call ends", async () => {
    const dir = tempDir();
    const [inSession, inGroup] = [join(dir, "session.pid"), join(dir, "group.pid")];
    // One orphan leads its own session, one stays in the command's group; both exit at once.
    const script = `setsid sh -c 'echo $$ > ${inSession}' & ( sh -c 'echo $$ > ${inGroup}' & ) ; ${waitForPidFiles([inSession, inGroup])} sleep 0.2; echo ok`;
    expect(await shellTool(dir).execute({ script }, context())).toBe("ok\n");
    await expectGone([readPid(inSession), readPid(inGroup)], []);
  }, 30_000);
});

describe.skipIf(!linux)("reapAdopted", () => {
  it("never takes the exit status of a child Bun spawned and waits for", async () => {
    // Reaping a Bun child behind its back makes Bun fail with an uncaught ECHILD.
    for (const detached of [true, false]) {
      const child = Bun.spawn(["sh", "-c", "exit 7"], { detached, stdout: "ignore", stderr: "ignore" });
      // Synchronously, so Bun cannot reap it first: wait until it is a zombie, then try.
      while (!readFileSync(`/proc/${child.pid}/stat`, "utf8").includes(") Z ")) Bun.sleepSync(1);
      reapAdopted();
      expect(isReaped(child.pid)).toBe(false);
      expect(await child.exited).toBe(7);
    }
  }, 30_000);
});

describe.skipIf(!linux)("GroupStdioTransport", () => {
  it("kills what the server left in another session when it is closed", async () => {
    const dir = tempDir();
    const duration = newSleep();
    const file = join(dir, "left.pid");
    const transport = new GroupStdioTransport({
      argv: ["/bin/sh", "-c", `${setsidSleep(duration, file)} exec cat`],
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
    });
    await transport.start();
    await waitFor(() => written(file), 10_000, "the server's leftover to start");
    const pid = readPid(file);
    expect(isAlive(pid)).toBe(true);
    await transport.close();
    await expectGone([pid], [duration]);
  }, 30_000);
});
