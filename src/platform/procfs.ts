/**
 * Reads of Linux's /proc that the process reaper needs: a process's state, parent and session,
 * its children, whether its environment carries an entry, and which processes this one holds a
 * pidfd for. Every read tolerates the process vanishing between two reads (it answers "gone").
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";

/** The fields of /proc/PID/stat the reaper uses. */
export interface ProcStat {
  readonly pid: number;
  /** One letter: R, S, D, Z (zombie: exited, not yet reaped), T, X… */
  readonly state: string;
  readonly ppid: number;
  /** Session id: a process forked by skiff is in skiff's session or leads its own (setsid). */
  readonly sid: number;
}

/** True where /proc describes processes (Linux). */
export function procfsAvailable(): boolean {
  return existsSync(`/proc/${process.pid}/stat`);
}

/** The process's state, parent and session; undefined once it is gone. */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { pid, state: fields[0] ?? "?", ppid: Number(fields[1]), sid: Number(fields[3]) };
}

/** Every pid in /proc. */
export function allPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

let childrenFiles: boolean | undefined;

/**
 * A function from a pid to its children's pids, for one consistent-enough look at the tree.
 * Uses /proc/PID/task/TID/children (every thread's: an adopted orphan may hang off any thread)
 * when the kernel has it (CONFIG_PROC_CHILDREN), else one scan of every process's parent.
 */
export function childrenReader(): (pid: number) => number[] {
  childrenFiles ??= existsSync(`/proc/${process.pid}/task/${process.pid}/children`);
  if (childrenFiles) return childrenFromTaskFiles;
  const byParent = new Map<number, number[]>();
  for (const pid of allPids()) {
    const stat = readStat(pid);
    if (stat === undefined) continue;
    const siblings = byParent.get(stat.ppid);
    if (siblings) siblings.push(pid);
    else byParent.set(stat.ppid, [pid]);
  }
  return (pid) => byParent.get(pid) ?? [];
}

function childrenFromTaskFiles(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, "latin1");
    } catch {
      continue;
    }
    for (const word of text.split(" ")) if (word !== "" && word !== "\n") children.push(Number(word));
  }
  return children;
}

/**
 * True when the process's environment (as it was given at exec) holds exactly one of `entries`
 * (`NAME=value`). False when it holds none, when it is gone, or when it cannot be read (a
 * zombie's environment is empty; another user's is refused).
 */
export function environHasAny(pid: number, entries: readonly string[]): boolean {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  for (const entry of entries) {
    const needle = Buffer.from(`${entry}\0`, "latin1");
    for (let at = environ.indexOf(needle); at !== -1; at = environ.indexOf(needle, at + 1)) {
      if (at === 0 || environ[at - 1] === 0) return true;
    }
  }
  return false;
}

/**
 * The pids this process holds a pidfd for: Bun keeps one for every child it spawned until it
 * has reaped it, which is how a zombie child that is Bun's is told from an adopted one.
 */
export function pidfdTargets(): Set<number> {
  const targets = new Set<number>();
  let fds: string[];
  try {
    fds = readdirSync("/proc/self/fd");
  } catch {
    return targets;
  }
  for (const fd of fds) {
    let link: string;
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    // "anon_inode:[pidfd]" before Linux 6.9's pidfs, "pidfd:[inode]" after.
    if (!link.includes("pidfd")) continue;
    try {
      const match = /^Pid:\s*(-?\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "latin1"));
      if (match) targets.add(Number(match[1]));
    } catch {
      // Closed meanwhile.
    }
  }
  return targets;
}
