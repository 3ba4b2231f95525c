/**
 * Runs a program in a process group of its own, tagged, so that ending it kills everything it
 * started (a shell script's children, npx's node, a daemon it left behind), not just the first
 * process. See `src/platform/process-reaper.ts` for how the tagged processes are found.
 */
import { randomUUID } from "node:crypto";
import { adoptOrphans, killTagged, killTaggedOnce, processTagVariable, trackSpawned } from "../platform/process-reaper.ts";
import { collectOutput } from "./command-output.ts";

/** How to run one program. `argv[0]` is a path; nothing goes through a shell. */
export interface GroupSpawnOptions {
  readonly argv: readonly string[];
  readonly cwd?: string;
  /** The child's whole environment, plus the spawn's tag: nothing else is inherited. */
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

// Groups alive right now, and the tags of spawns whose processes may still be alive: all killed
// when skiff exits however it exits (a second Ctrl-C calls process.exit without unwinding).
const liveGroups = new Set<number>();
const liveTags = new Set<string>();
const tagOf = new WeakMap<object, string>();
let exitHookInstalled = false;

/**
 * How long a finished command's pipes may stay open before skiff stops reading them. Everything
 * the command started is dead by then (Linux), so this only bounds a process skiff could not
 * reach (one that changed user, or any orphan on macOS) still holding a pipe.
 */
const pipeGraceMs = 500;

/** Sends SIGKILL to a whole process group; a group that is already gone is fine. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: nothing left to kill.
  }
}

/**
 * Starts `argv` detached (setsid, so it leads a new group), tagged in its environment so that
 * whatever it starts can be found again (`killTree`), and tracked for exit clean-up.
 */
export function spawnGroup<In extends "pipe" | "ignore">(options: GroupSpawnOptions, stdin: In) {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const pid of liveGroups) killGroup(pid);
      killTaggedOnce(liveTags);
    });
  }
  adoptOrphans();
  const tag = randomUUID();
  const child = Bun.spawn({
    cmd: [...options.argv],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: { ...options.env, [processTagVariable]: tag },
    stdin,
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  const untrack = trackSpawned(child.pid, tag);
  liveGroups.add(child.pid);
  liveTags.add(tag);
  tagOf.set(child, tag);
  void child.exited.then(() => {
    liveGroups.delete(child.pid);
    untrack();
  });
  return child;
}

/**
 * Kills `child`'s process group and, on Linux, every process it started wherever it went (a new
 * session, a double fork), repeating until none is left (bounded). Safe to call at any time,
 * more than once; processes of other spawns are never touched.
 */
export async function killTree(child: { readonly pid: number }): Promise<void> {
  killGroup(child.pid);
  const tag = tagOf.get(child);
  if (tag === undefined) return;
  if ((await killTagged(new Set([tag]))) === 0) liveTags.delete(tag);
}

/**
 * Runs a command to completion with stdin closed. stdout is kept up to `maxOutput` bytes and
 * stderr's last `maxOutput` bytes; the rest is read and dropped so the child never blocks on a
 * full pipe. The call ends when the command exits or the signal aborts; either way everything it
 * started is killed first (`killTree`), so a tool call leaves no process behind and a leftover
 * holding stdout cannot stretch the call. When the signal aborted, this rejects with its reason.
 */
export async function runCommand(options: GroupSpawnOptions, signal: AbortSignal, maxOutput: number): Promise<ProcessOutcome> {
  signal.throwIfAborted();
  const child = spawnGroup(options, "ignore");
  const output = collectOutput(child.stdout, child.stderr, maxOutput);
  let onAbort = () => {};
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([child.exited, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  await killTree(child);
  await child.exited;
  const collected = await output.settle(pipeGraceMs);
  signal.throwIfAborted();
  const decoder = new TextDecoder();
  return {
    exitCode: child.exitCode,
    signalCode: child.signalCode === null ? null : String(child.signalCode),
    stdout: decoder.decode(collected.stdout),
    ...(collected.stdoutTotal > collected.stdout.byteLength ? { stdoutTruncatedFrom: collected.stdoutTotal } : {}),
    stderr: decoder.decode(collected.stderr),
  };
}
