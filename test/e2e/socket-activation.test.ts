/**
 * Socket activation (LISTEN_FDS/LISTEN_PID) against the compiled binary: under
 * `systemd-socket-activate`, on a socket the test holds across a restart, and the units
 * `skiff systemd --socket` prints, checked by `systemd-analyze verify`.
 */
import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { closeSync, openSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { hiddenRootOf } from "../../src/cli/systemd-quote.ts";
import { holdListeningSocket, type HeldSocket } from "../helpers/listening-socket.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { cleanEnv, projectRoot, runSkiff, skiffBinary } from "./binary.ts";
import { startServe, stopAllServes } from "./serve-process.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-activation-");
const held: HeldSocket[] = [];
const spawned: Bun.Subprocess[] = [];
/** Generous: a 2-core machine runs other test files at the same time. */
const slow = 120_000;

beforeAll(async () => {
  await skiffBinary();
}, 120_000);

afterEach(async () => {
  await stopAllServes();
  for (const proc of spawned.splice(0)) {
    proc.kill("SIGKILL");
    await proc.exited;
  }
  for (const socket of held.splice(0)) socket.close();
  removeTempDirs();
});

/** Sets LISTEN_PID to the PID the binary will have: the shell's own, kept by exec. */
const withListenPid = ["sh", "-c", 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', "sh"];

/** One HTTP/1.1 request on a new connection; resolves to the status line, or rejects with why not. */
function getOnNewConnection(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let response = "";
    socket.setTimeout(60_000, () => socket.destroy(new Error("no answer within 60 s")));
    socket.on("connect", () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    socket.on("data", (chunk) => (response += chunk.toString()));
    socket.on("error", reject);
    socket.on("close", () => (response ? resolve(response.split("\r\n")[0]!) : reject(new Error("closed without an answer"))));
  });
}

/** A port nothing listens on now (systemd-socket-activate needs a number; a clash fails the test loudly). */
function freePort(): number {
  const socket = holdListeningSocket();
  socket.close();
  return socket.port;
}

describe.skipIf(process.platform !== "linux")("skiff serve with socket activation (compiled binary)", () => {
  it("serves on the socket systemd-socket-activate passes, and ignores server.listen", async () => {
    const activate = Bun.which("systemd-socket-activate");
    if (activate === null) {
      console.log("systemd-socket-activate is not installed (Debian package systemd): skipping");
      return;
    }
    const port = freePort();
    const proc = Bun.spawn(
      [activate, "-l", `127.0.0.1:${port}`, await skiffBinary(), "serve", "--model", "demo", "--sessions", "memory", "--listen", "127.0.0.1:1"],
      { env: cleanEnv(), stdin: "ignore", stdout: "ignore", stderr: "pipe" },
    );
    spawned.push(proc);
    const stderr = collectLines(proc.stderr);
    await stderr.waitFor((line) => line.startsWith(`Listening on 127.0.0.1:${port}`));

    // systemd-socket-activate starts skiff only when the first connection arrives; it waits in the queue.
    expect(await getOnNewConnection(port, "/healthz")).toBe("HTTP/1.1 200 OK");
    const run = await fetch(`http://127.0.0.1:${port}/v1/runs`, { method: "POST", body: JSON.stringify({ input: "what is 6*7?" }) });
    expect(((await run.json()) as { output: string }).output).toBe("6*7 = 42.");
    const listening = JSON.parse(await stderr.waitFor((line) => line.includes('"msg":"listening"'))) as Record<string, unknown>;
    expect(listening["url"]).toBe(`http://127.0.0.1:${port}`);
    expect(listening["backlog"]).toBe("systemd's");
    expect(stderr.lines.some((line) => line.includes("serving on the socket systemd passed (LISTEN_FDS); server.listen is not used"))).toBe(true);

    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }, slow);

  it("answers every connection while skiff is stopped with SIGTERM and started again on the same socket", async () => {
    const socket = holdListeningSocket();
    held.push(socket);
    const options = {
      wrapper: withListenPid,
      fd3: socket.fd,
      env: cleanEnv({ LISTEN_FDS: "1" }),
      args: ["--model", "demo", "--sessions", "memory"],
    };
    const first = await startServe(options);
    expect(first.url).toBe(`http://127.0.0.1:${socket.port}`);
    // serve re-executed itself (execve: same PID, LISTEN_PID still true) and the socket survived it.
    expect(readFileSync(`/proc/${first.pid}/environ`, "utf8")).toMatch(/(^|\0)BUN_CONFIG_MAX_HTTP_REQUESTS=\d+\0/);

    // Clients keep opening new connections, one after another, until told to stop (bounded).
    let answered = 0;
    const failures: string[] = [];
    const progress = new Set<() => void>();
    let stop = false;
    const client = async () => {
      for (let i = 0; i < 5_000 && !stop; i++) {
        try {
          const status = await getOnNewConnection(socket.port, "/healthz");
          if (status === "HTTP/1.1 200 OK") answered++;
          else failures.push(status);
        } catch (error) {
          failures.push(error instanceof Error ? error.message : String(error));
        }
        for (const wake of progress) wake();
      }
    };
    const answeredAtLeast = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (answered < count && failures.length === 0) return;
          progress.delete(check);
          resolve();
        };
        progress.add(check);
        check();
      });
    const clients = Array.from({ length: 16 }, client);

    await answeredAtLeast(20);
    // systemctl restart: SIGTERM (the first drains and exits), then a new process on the same socket.
    expect(await first.stop("SIGTERM")).toBe(0);
    // No skiff runs now: these connections are opened while nobody accepts, and wait in the queue.
    const queued = Array.from({ length: 8 }, () => getOnNewConnection(socket.port, "/healthz"));
    const second = await startServe(options);
    expect(await Promise.all(queued)).toEqual(Array.from({ length: 8 }, () => "HTTP/1.1 200 OK"));
    expect(second.url).toBe(first.url);
    expect(second.pid).not.toBe(first.pid);
    await answeredAtLeast(answered + 20);
    stop = true;
    await Promise.all(clients);

    expect(failures).toEqual([]);
    expect(await second.stop("SIGTERM")).toBe(0);
  }, slow);

  it("refuses a socket it cannot serve, naming LISTEN_FDS", async () => {
    const socket = holdListeningSocket();
    held.push(socket);
    const two = await runSkiffWith(["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=2; export LISTEN_PID LISTEN_FDS; exec "$@"', "sh"], socket.fd);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("LISTEN_FDS: LISTEN_FDS=2: skiff serve listens on one socket; give the .socket unit a single ListenStream=");
    // Descriptor 3 is a file, not a socket.
    const file = join(tempDir(), "not-a-socket");
    writeFileSync(file, "");
    const fd = openSync(file, "r");
    const notSocket = await runSkiffWith(withListenPid, fd, { LISTEN_FDS: "1" }).finally(() => closeSync(fd));
    expect(notSocket.code).toBe(2);
    expect(notSocket.stderr).toContain("LISTEN_FDS=1, but descriptor 3 is not a socket");
  }, slow);

  it("prints skiff.service and skiff.socket with --socket, and systemd-analyze verify accepts both", async () => {
    // As in serve-lifecycle.test.ts: files the unit names must not be under /tmp or /home.
    const hiddenCheckout = hiddenRootOf(projectRoot) !== undefined;
    const dir = tempDir({ parent: hiddenCheckout ? "/opt" : join(projectRoot, ".tmp") });
    const binary = hiddenCheckout ? join(dir, "skiff") : await skiffBinary();
    if (hiddenCheckout) symlinkSync(await skiffBinary(), binary);
    const result = await runSkiff(["systemd", "--binary", binary, "--socket", "--listen", "127.0.0.1:80", "--watchdog", "10s", "--model", "demo"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    // The split docs/deploy.md shows: each unit starts with a comment naming its file.
    const split = Bun.spawnSync(["sh", "-c", `awk '/^# skiff\\.(service|socket), generated by/ { file = substr($2, 1, length($2) - 1) } { print > file }'`], {
      cwd: dir,
      stdin: new TextEncoder().encode(result.stdout),
    });
    expect(split.exitCode).toBe(0);
    const service = readFileSync(join(dir, "skiff.service"), "utf8").split("\n");
    const socketUnit = readFileSync(join(dir, "skiff.socket"), "utf8").split("\n");
    expect(service).toContain(`ExecStart=${binary} serve --listen 127.0.0.1:80 --model demo`);
    for (const line of ["Type=notify", "NotifyAccess=main", "WatchdogSec=10s", "Requires=skiff.socket", "After=skiff.socket network-online.target", "Also=skiff.socket", "CapabilityBoundingSet="]) {
      expect(service).toContain(line);
    }
    expect(service.join("\n")).not.toContain("CAP_NET_BIND_SERVICE"); // systemd binds port 80, not skiff
    expect(socketUnit).toContain("ListenStream=127.0.0.1:80");
    expect(socketUnit).toContain("WantedBy=sockets.target");

    const analyze = Bun.which("systemd-analyze");
    if (analyze === null) {
      console.log("systemd-analyze is not installed: skipping `systemd-analyze verify`");
      return;
    }
    const verify = Bun.spawnSync([analyze, "verify", join(dir, "skiff.service"), join(dir, "skiff.socket")], { stdout: "pipe", stderr: "pipe" });
    expect(`${verify.stdout.toString()}${verify.stderr.toString()}`).toBe("");
    expect(verify.exitCode).toBe(0);
  }, slow);
});

/** Runs `skiff serve` (expected to stop at start) through `wrapper`, with `fd3` as its descriptor 3. */
async function runSkiffWith(wrapper: readonly string[], fd3: number, env: Record<string, string> = {}) {
  const proc = Bun.spawn([...wrapper, await skiffBinary(), "serve", "--model", "demo", "--sessions", "memory"], {
    env: cleanEnv(env),
    stdio: ["ignore", "pipe", "pipe", fd3],
  });
  spawned.push(proc);
  const [stderr, code] = await Promise.all([new Response(proc.stderr as ReadableStream).text(), proc.exited]);
  return { code, stderr };
}

/** The lines of a stream as they arrive, and a wait for one. */
function collectLines(stream: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  void (async () => {
    let pending = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      pending += decoder.decode(chunk, { stream: true });
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      lines.push(...parts);
      for (const wake of waiters) wake();
    }
    ended = true;
    for (const wake of waiters) wake();
  })();
  return {
    lines,
    waitFor(predicate: (line: string) => boolean, timeoutMs = 60_000): Promise<string> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(() => reject(new Error(`no such line within ${timeoutMs}ms:\n${lines.join("\n")}`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        const check = () => {
          const found = lines.find(predicate);
          if (found !== undefined) finish(() => resolve(found));
          else if (ended) finish(() => reject(new Error(`the process ended first:\n${lines.join("\n")}`)));
        };
        waiters.add(check);
        check();
      });
    },
  };
}
