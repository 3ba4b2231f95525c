/**
 * raiseListenBacklog, checked by what it is for: while the server cannot accept (its event loop
 * busy), a burst of 1,000 clients overflows Bun's accept queue of 512 (the kernel drops their
 * handshakes and counts ListenOverflows; each such client then waits for a retransmit) and fits
 * in the raised one.
 */
import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { bunListenBacklog, raiseListenBacklog } from "../../src/platform/listen-backlog.ts";

const somaxconn = process.platform === "linux" ? Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim()) : 0;
const clients = 1_000;

/** Connects `clients` sockets at once from another process and holds them for 700 ms. */
const burst = `
const port = Number(process.env.BURST_PORT);
for (let i = 0; i < ${clients}; i++) {
  Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, error() {} } }).catch(() => {});
}
await Bun.sleep(700);
process.exit(0);
`;

/** TcpExt ListenOverflows of this network namespace. */
function listenOverflows(): number {
  const lines = readFileSync("/proc/net/netstat", "utf8").split("\n");
  const header = lines.findIndex((line) => line.startsWith("TcpExt:"));
  const names = lines[header]!.split(/\s+/);
  const values = lines[header + 1]!.split(/\s+/);
  return Number(values[names.indexOf("ListenOverflows")]);
}

/** Overflows while the burst hits `port` and this process's event loop is blocked (no accept() runs). */
async function overflowsWhileBusy(port: number): Promise<number> {
  const before = listenOverflows();
  const child = Bun.spawn([process.execPath, "-e", burst], { env: { ...process.env, BURST_PORT: String(port) }, stdout: "pipe", stderr: "inherit" });
  const until = performance.now() + 1_200;
  while (performance.now() < until) {
    // busy: no accept() runs
  }
  await child.exited;
  return listenOverflows() - before;
}

describe("raiseListenBacklog", () => {
  it.skipIf(somaxconn <= bunListenBacklog)("keeps a burst beyond Bun's 512 pending connections from overflowing the accept queue", async () => {
    const plain = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
    const raised = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
    try {
      expect(raiseListenBacklog(raised.port!)).toEqual({ backlog: somaxconn });
      // The accept queue holds backlog + 1 connections; the kernel drops the handshakes beyond.
      expect(await overflowsWhileBusy(plain.port!)).toBeGreaterThan(clients - bunListenBacklog - 100);
      expect(await overflowsWhileBusy(raised.port!)).toBe(0);
      // The server still works.
      expect(await (await fetch(`http://127.0.0.1:${raised.port}/`)).text()).toBe("ok");
    } finally {
      plain.stop(true);
      raised.stop(true);
    }
  });

  it("says why when there is no such listener", () => {
    const outcome = raiseListenBacklog(1);
    expect("unchanged" in outcome).toBe(true);
  });
});
