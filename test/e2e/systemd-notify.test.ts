/**
 * `skiff serve` under systemd's notification protocol (Type=notify, WatchdogSec=), against the
 * compiled binary: a Unix datagram socket stands in for systemd's NOTIFY_SOCKET.
 */
import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { type NotifyListener, startNotifyListener } from "../helpers/notify-listener.ts";
import { cleanEnv, skiffBinary } from "./binary.ts";
import { startServe, stopAllServes } from "./serve-process.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-notify-");
const listeners: NotifyListener[] = [];
const fakeMcp = join(import.meta.dir, "../fakes/mcp-server.ts");
/** Generous: a 2-core machine runs other test files at the same time. */
const slow = 90_000;

beforeAll(async () => {
  await skiffBinary();
}, 120_000);

afterEach(async () => {
  await stopAllServes();
  await Promise.all(listeners.splice(0).map((listener) => listener.stop()));
  removeTempDirs();
});

async function listen(address: string): Promise<NotifyListener> {
  const listener = await startNotifyListener(address);
  listeners.push(listener);
  return listener;
}

describe.skipIf(process.platform !== "linux")("skiff serve with NOTIFY_SOCKET (compiled binary)", () => {
  it("sends READY=1 only once its MCP servers are up and /healthz answers, WATCHDOG=1 again and again, STOPPING=1 on SIGTERM", async () => {
    const dir = tempDir();
    const notify = await listen(join(dir, "notify.sock"));
    // The MCP server starts only when the test opens this FIFO: until then skiff is still starting.
    const gate = join(dir, "gate");
    expect(Bun.spawnSync(["mkfifo", gate]).exitCode).toBe(0);
    const config = join(dir, "skiff.toml");
    await Bun.write(
      config,
      `model = "demo"\n[[mcp]]\nname = "gated"\ncommand = ["sh", "-c", ${JSON.stringify(`read go < '${gate}' && exec '${process.execPath}' '${fakeMcp}'`)}]\nstart_timeout = "60s"\n`,
    );
    const serving = startServe({
      args: ["--config", config, "--sessions", "memory"],
      env: cleanEnv({ NOTIFY_SOCKET: notify.address, WATCHDOG_USEC: "300000" }),
      cwd: dir,
    });

    // Opening the FIFO for writing returns once the MCP server's shell has opened it: skiff is
    // waiting for that server now, so it must not have said it is ready.
    const writer = await open(gate, "w");
    expect(notify.messages).toEqual([]);
    await writer.write("go\n");
    await writer.close();

    const server = await serving;
    const ready = await notify.waitFor((message) => message.split("\n").includes("READY=1"));
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(notify.messages[0]).toBe(ready); // nothing before it
    expect(ready).toContain(`STATUS=serving on ${server.url}: `);

    // WATCHDOG_USEC=300000: a ping every 150 ms, from the event loop, for as long as it runs.
    const readyAt = notify.messages.indexOf(ready);
    for (let count = 1; count <= 3; count++) {
      await notify.waitFor(() => notify.messages.slice(readyAt).filter((message) => message === "WATCHDOG=1").length >= count);
    }

    const beforeStop = notify.messages.length;
    expect(await server.stop("SIGTERM")).toBe(0);
    const stopping = await notify.waitFor((message) => message.startsWith("STOPPING=1"), { from: beforeStop });
    expect(stopping).toMatch(/^STOPPING=1\nSTATUS=draining: \d+ runs? in flight, aborted after shutdown_timeout 30s$/);
  }, slow);

  it("reaches a NOTIFY_SOCKET in the abstract namespace (@name)", async () => {
    const notify = await listen(`@skiff-notify-test-${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
    const server = await startServe({ args: ["--model", "demo", "--sessions", "memory"], env: cleanEnv({ NOTIFY_SOCKET: notify.address }) });
    expect(await notify.waitFor((message) => message.startsWith("READY=1\n"))).toContain(`STATUS=serving on ${server.url}`);
    expect(await server.stop("SIGTERM")).toBe(0);
    await notify.waitFor((message) => message.startsWith("STOPPING=1\n"));
    expect(notify.messages).not.toContain("WATCHDOG=1"); // no WATCHDOG_USEC, no pings
  }, slow);

  it("serves as without systemd when NOTIFY_SOCKET cannot be used, and says why once", async () => {
    const dir = tempDir();
    const missing = await startServe({
      args: ["--model", "demo", "--sessions", "memory"],
      env: cleanEnv({ NOTIFY_SOCKET: join(dir, "nobody-listens.sock"), WATCHDOG_USEC: "100000" }),
    });
    expect((await fetch(`${missing.url}/healthz`)).status).toBe(200);
    const warning = await missing.waitForLog((line) => String(line["msg"]).startsWith("a systemd notification could not be sent"));
    expect(warning["error"]).toBe("sendto failed: ENOENT");
    expect(await missing.stop("SIGTERM")).toBe(0);
    expect(missing.logs.filter((line) => String(line["msg"]).startsWith("a systemd notification could not be sent"))).toHaveLength(1);

    const relative = await startServe({ args: ["--model", "demo", "--sessions", "memory"], env: cleanEnv({ NOTIFY_SOCKET: "run/notify" }) });
    const off = await relative.waitForLog((line) => line["msg"] === "systemd notifications are off");
    expect(off["reason"]).toBe('NOTIFY_SOCKET: "run/notify" is neither an absolute path nor an abstract name ("@…")');
    expect((await fetch(`${relative.url}/healthz`)).status).toBe(200);
    expect(await relative.stop("SIGTERM")).toBe(0);
  }, slow);
});
