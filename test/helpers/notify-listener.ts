/**
 * A Unix datagram socket standing in for systemd's NOTIFY_SOCKET. Bun cannot receive on one, so
 * the receiver is a small subprocess (this file run as a script) that binds the socket through
 * bun:ffi, blocks in recv(2), and prints each datagram as a JSON string on its own stdout line;
 * the test reads those lines as they come, so nothing waits on a timer.
 *
 *   bun test/helpers/notify-listener.ts ADDRESS     ADDRESS: an absolute path, or "@name" (abstract)
 */
import { writeSync } from "node:fs";
import { linux, socketCalls } from "../../src/platform/libc-socket.ts";
import { unixAddress } from "../../src/platform/sockaddr.ts";

/** A running receiver: the notifications so far, a wait for one, and stop. */
export interface NotifyListener {
  /** The NOTIFY_SOCKET value to give skiff. */
  readonly address: string;
  /** Each datagram received, in order. */
  readonly messages: readonly string[];
  /** Resolves with the first message (from index `from`) matching `predicate`. */
  waitFor(predicate: (message: string) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a receiver bound to `address`; resolves once it is bound. */
export async function startNotifyListener(address: string): Promise<NotifyListener> {
  const proc = Bun.spawn([process.execPath, import.meta.path, address], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const messages: string[] = [];
  const waiters = new Set<() => void>();
  let bound: () => void = () => {};
  let failed: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    bound = resolve;
    failed = reject;
  });
  void (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of proc.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line === "bound") bound();
        else messages.push(JSON.parse(line) as string);
      }
      for (const wake of waiters) wake();
    }
    failed(new Error(`the notify listener exited: ${await new Response(proc.stderr).text()}`));
    for (const wake of waiters) wake();
  })();
  await ready;
  return {
    address,
    messages,
    waitFor(predicate, { from = 0, timeoutMs = 20_000 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.slice(from).find(predicate);
          if (found !== undefined) {
            done();
            resolve(found);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            done();
            reject(new Error(`the notify listener stopped; messages: ${JSON.stringify(messages)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no matching notification within ${timeoutMs}ms; messages: ${JSON.stringify(messages)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

if (import.meta.main) {
  const address = process.argv[2] ?? "";
  const calls = socketCalls();
  const fd = calls.socket(linux.AF_UNIX, linux.SOCK_DGRAM | linux.SOCK_CLOEXEC);
  calls.bind(fd, unixAddress(address));
  writeSync(1, "bound\n");
  const buffer = new Uint8Array(65_536);
  // Blocks in recv until the parent kills this process; the event loop never needs to run.
  for (;;) {
    const length = calls.recv(fd, buffer, 0);
    writeSync(1, `${JSON.stringify(new TextDecoder().decode(buffer.subarray(0, length)))}\n`);
  }
}
