import { readdirSync, readFileSync } from "node:fs";

/**
 * Pids of live processes whose command line is exactly `argv` (a zombie's is empty, so only the
 * living match): how a test finds a process it could not learn the pid of, such as a daemon.
 */
export function pidsRunning(argv: readonly string[]): number[] {
  const wanted = `${argv.join("\0")}\0`;
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8") === wanted) found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** A sleep duration no other test or process uses, so `pidsRunning(["sleep", it])` finds only ours. */
export function uniqueSleep(): string {
  return `304.${String(process.pid % 1000).padStart(3, "0")}${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`;
}

/** True when no process, not even a zombie, has `pid`: it died and was reaped. */
export function isReaped(pid: number): boolean {
  try {
    readFileSync(`/proc/${pid}/stat`);
    return false;
  } catch {
    return true;
  }
}
