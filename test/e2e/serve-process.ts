/**
 * `dist/skiff serve` as a child process on 127.0.0.1 and a free port: started, its JSON log lines
 * collected from stderr, stopped with a signal. Every test stops what it starts.
 */
import type { Subprocess } from "bun";
import { cleanEnv, projectRoot, skiffBinary } from "./binary.ts";

/** A running `skiff serve`. */
export interface ServeProcess {
  readonly url: string;
  readonly pid: number;
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Log lines so far, parsed (lines that are not JSON are kept as `{ raw }`). */
  readonly logs: Record<string, unknown>[];
  /** Sends `signal` and resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
  /** Waits for a log line matching `predicate`. */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export interface ServeOptions {
  readonly args?: readonly string[];
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** A command that execs its arguments (the binary and its flags follow it), e.g. to set LISTEN_PID. */
  readonly wrapper?: readonly string[];
  /** A descriptor of this process the child gets as its descriptor 3 (a socket to inherit). */
  readonly fd3?: number;
}

const running = new Set<ServeProcess>();

/** Starts `skiff serve --listen 127.0.0.1:0 …` and resolves once it logs where it listens. */
export async function startServe(options: ServeOptions = {}): Promise<ServeProcess> {
  const binary = await skiffBinary();
  const proc = Bun.spawn([...(options.wrapper ?? []), binary, "serve", "--listen", "127.0.0.1:0", ...(options.args ?? [])], {
    cwd: options.cwd ?? projectRoot,
    env: options.env ?? cleanEnv(),
    stdio: ["ignore", "pipe", "pipe", ...(options.fd3 === undefined ? [] : [options.fd3])],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderrText = "";
  void (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of proc.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      stderrText += text;
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim() === "") continue;
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          logs.push({ raw: line });
        }
        for (const wake of waiters) wake();
      }
    }
    for (const wake of waiters) wake();
  })();

  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = logs.find(predicate);
        if (found) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`skiff serve exited (${proc.exitCode ?? proc.signalCode}) before the expected log line:\n${stderrText}`));
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs}ms waiting for a log line; stderr so far:\n${stderrText}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const listening = await waitForLog((line) => line["msg"] === "listening");
  const server: ServeProcess = {
    url: String(listening["url"]),
    pid: proc.pid,
    proc,
    logs,
    waitForLog,
    async stop(signal = "SIGTERM") {
      running.delete(server);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return proc.exited;
    },
  };
  running.add(server);
  return server;
}

/** Kills every server a test left running (call in afterEach). */
export async function stopAllServes(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop("SIGKILL")));
}
