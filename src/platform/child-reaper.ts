/**
 * The two system calls behind orphan adoption on Linux, through bun:ffi: prctl(2) to make this
 * process a child subreaper, and waitpid(2) on one given pid to reap an adopted zombie. Never
 * waitpid(-1): that would take the exit status of a child Bun is waiting for, and Bun fails hard
 * (an uncaught ECHILD) when its child's status is gone.
 */
import { FFIType } from "bun:ffi";
import { openLibc } from "./libc.ts";

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

let libc: ReturnType<typeof open> | undefined;

function open() {
  return openLibc({
    prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
    waitpid: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  });
}

/**
 * Makes this process a child subreaper: a process orphaned anywhere below it (its parent died,
 * or it double-forked, or it called setsid and was left behind) becomes its child instead of
 * PID 1's. Linux only; false where that is not possible.
 */
export function becomeChildSubreaper(): boolean {
  if (process.platform !== "linux") return false;
  try {
    libc ??= open();
    return libc.symbols.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
  } catch {
    return false;
  }
}

/**
 * Reaps `pid` if it is a zombie child of this process; true when it was reaped. The caller must
 * know the pid is not a child Bun spawned (see `process-reaper.ts`).
 */
export function reapChild(pid: number): boolean {
  if (libc === undefined || !(pid > 0)) return false;
  return libc.symbols.waitpid(pid, null, WNOHANG) === pid;
}
