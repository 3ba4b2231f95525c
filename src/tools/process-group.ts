/**
 * Runs a program in a process group of its own, so that cancelling it kills everything it
 * started (a shell script's children, npx's node), not just the first process.
 */

/** How to run one program. `argv[0]` is a path; nothing goes through a shell. */
export interface GroupSpawnOptions {
  readonly argv: readonly string[];
  readonly cwd?: string;
  /** The child's whole environment: nothing is inherited that is not in here. */
  readonly env: Readonly<Record<string, string>>;
}

/** What a finished command left behind. */
export interface ProcessOutcome {
  readonly exitCode: number | null;
  readonly signalCode: string | null;
  /** The first `maxOutput` bytes of stdout. */
  readonly stdout: string;
  readonly stdoutTruncatedFrom?: number;
  /** The last `maxOutput` bytes of stderr: the end is where errors are. */
  readonly stderr: string;
}

// Groups alive right now, killed when skiff exits however it exits (a second Ctrl-C calls
// process.exit without unwinding): detached children would otherwise outlive it.
const liveGroups = new Set<number>();
let exitHookInstalled = false;

/** Sends SIGKILL to a whole process group; a group that is already gone is fine. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: nothing left to kill.
  }
}

/** Starts `argv` detached (setsid, so it leads a new group) and tracks it for exit clean-up. */
export function spawnGroup<In extends "pipe" | "ignore">(options: GroupSpawnOptions, stdin: In) {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const pid of liveGroups) killGroup(pid);
    });
  }
  const child = Bun.spawn({
    cmd: [...options.argv],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: { ...options.env },
    stdin,
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  liveGroups.add(child.pid);
  void child.exited.then(() => liveGroups.delete(child.pid));
  return child;
}

/**
 * Runs a command to completion with stdin closed. stdout is kept up to `maxOutput` bytes and
 * stderr's last `maxOutput` bytes; the rest is read and dropped so the child never blocks on a
 * full pipe. When the signal aborts, the whole group is killed and this rejects with the reason.
 * When the command exits, whatever it left running in its group is killed too: a tool call must
 * not leave processes behind.
 */
export async function runCommand(options: GroupSpawnOptions, signal: AbortSignal, maxOutput: number): Promise<ProcessOutcome> {
  signal.throwIfAborted();
  const child = spawnGroup(options, "ignore");
  const onAbort = () => killGroup(child.pid);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const stdout = readHead(child.stdout, maxOutput);
    const stderr = readTail(child.stderr, maxOutput);
    await child.exited;
    // A grandchild may still hold the pipes open; it goes with the group.
    killGroup(child.pid);
    const [out, err] = await Promise.all([stdout, stderr]);
    signal.throwIfAborted();
    const decoder = new TextDecoder();
    return {
      exitCode: child.exitCode,
      signalCode: child.signalCode === null ? null : String(child.signalCode),
      stdout: decoder.decode(out.bytes),
      ...(out.total > out.bytes.byteLength ? { stdoutTruncatedFrom: out.total } : {}),
      stderr: decoder.decode(err),
    };
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

async function readHead(stream: ReadableStream<Uint8Array>, limit: number): Promise<{ bytes: Uint8Array; total: number }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.byteLength;
    if (size < limit) {
      const take = chunk.subarray(0, limit - size);
      chunks.push(take);
      size += take.byteLength;
    }
  }
  return { bytes: Buffer.concat(chunks, size), total };
}

async function readTail(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  let tail = new Uint8Array(0);
  for await (const chunk of stream) {
    const joined = new Uint8Array(tail.byteLength + chunk.byteLength);
    joined.set(tail);
    joined.set(chunk, tail.byteLength);
    tail = joined.byteLength > limit ? joined.slice(joined.byteLength - limit) : joined;
  }
  return tail;
}
