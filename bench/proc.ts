/** Small process helpers for the benchmarks: start, wait for a port, sample memory, stop by PID. */
import { readdirSync, readFileSync } from "node:fs";

export interface Started {
  readonly pid: number;
  readonly exited: Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Everything the process wrote to stderr so far (bounded). */
  stderr(): string;
}

/** Starts a process whose first stdout line is its port; resolves with the port once printed. */
export async function startWithPort(cmd: string[], env: Record<string, string | undefined>): Promise<Started & { port: number }> {
  const child = Bun.spawn(cmd, { env, stdout: "pipe", stderr: "pipe" });
  let errText = "";
  void (async () => {
    for await (const chunk of child.stderr as ReadableStream<Uint8Array>) {
      errText = (errText + new TextDecoder().decode(chunk)).slice(-20_000);
    }
  })();
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  const deadline = Date.now() + 15_000;
  while (!text.includes("\n")) {
    if (Date.now() > deadline) throw new Error(`${cmd[0]} printed no port within 15 s: ${errText}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`${cmd[0]} exited before printing its port: ${errText}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { ...wrap(child, () => errText), port: Number(text.split("\n")[0]) };
}

/** Starts a process and returns at once. */
export function start(cmd: string[], env: Record<string, string | undefined>, cwd?: string): Started {
  const child = Bun.spawn(cmd, { env, stdout: "ignore", stderr: "pipe", ...(cwd ? { cwd } : {}) });
  let errText = "";
  void (async () => {
    for await (const chunk of child.stderr as ReadableStream<Uint8Array>) {
      errText = (errText + new TextDecoder().decode(chunk)).slice(-20_000);
    }
  })();
  return wrap(child, () => errText);
}

function wrap(child: ReturnType<typeof Bun.spawn>, stderr: () => string): Started {
  return {
    pid: child.pid,
    exited: child.exited,
    stderr,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await child.exited;
      clearTimeout(timer);
    },
  };
}

/**
 * VmRSS and VmHWM (peak) of a process, in bytes, from /proc; and RSS split into private memory
 * (RssAnon) and pages of files, the executable's mostly (RssFile: clean, shared by every process
 * running the same binary, and dropped by the kernel under memory pressure).
 */
export function memoryOf(pid: number): { rss: number; hwm: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM"), anon: kb("RssAnon"), file: kb("RssFile") };
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
export function cpuSecondsOf(pid: number): number {
  return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, "utf8"));
}

/** CPU seconds per thread name (main thread, HTTP client, GC helpers, ...), summed over same-named threads. */
export function threadCpuSecondsOf(pid: number): Record<string, number> {
  const byName: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "#");
      byName[name] = (byName[name] ?? 0) + statCpuSeconds(stat);
    } catch {
      // thread ended
    }
  }
  return byName;
}

/** utime + stime of a /proc stat line, in seconds. */
function statCpuSeconds(stat: string): number {
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** Polls `url` until it answers 200 or `timeoutMs` passes. */
export async function waitForOk(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

/** Percentile of sorted numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
