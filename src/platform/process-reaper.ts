/**
 * Finds and kills every process a spawned program left behind, including those that left its
 * process group or session (setsid, double fork), and reaps them. Linux only; elsewhere every
 * function here does nothing and callers rely on process groups alone.
 *
 * How: skiff becomes a child subreaper once (prctl), so nothing started below it can escape its
 * process tree: an orphan is re-parented to skiff instead of PID 1. Each spawn carries a tag in
 * its environment (`SKIFF_PROCESS_TAG`), inherited by everything it starts. Killing a spawn's
 * processes walks skiff's children for that tag and kills them with all their descendants, until
 * a walk finds none. Adopted orphans are skiff's children, so skiff must reap them; Bun reaps only
 * the children it spawned, and takes it badly when one of those is reaped behind its back, so a
 * zombie child is reaped only when it is provably not Bun's (see `reapAdopted`).
 */
import { becomeChildSubreaper, reapChild } from "./child-reaper.ts";
import { childrenReader, environHasAny, pidfdTargets, procfsAvailable, readStat } from "./procfs.ts";

/** The environment variable that tags every process a spawn starts. */
export const processTagVariable = "SKIFF_PROCESS_TAG";

/** How long `killTagged` keeps finding and killing before it gives up on what is left. */
const sweepLimitMs = 2000;
const maxRoundWaitMs = 50;
const reapIntervalMs = 100;

let adopting: boolean | undefined;
// skiff's session, read once: neither skiff nor Bun ever calls setsid on skiff itself.
let ownSession: number | undefined;
// Whether Bun holds a pidfd for each child it spawns (it does on Linux ≥ 5.3); decided once, on
// the first tracked spawn, because reaping a zombie nobody tracks relies on it.
let bunHoldsPidfds: boolean | undefined;
// Children spawned through `trackSpawned` that Bun has not reaped yet, with their tags: never
// reaped here, and their environment need not be read to know their tag.
const spawned = new Map<number, string>();
let reapScheduled = false;

/**
 * Makes skiff adopt orphans of its descendants (once per process) and reap those that exit on
 * their own (on SIGCHLD). Returns whether orphans are adopted: false off Linux or when the kernel
 * refuses, and then only process groups contain what a spawn starts.
 */
export function adoptOrphans(): boolean {
  if (adopting !== undefined) return adopting;
  adopting = procfsAvailable() && becomeChildSubreaper();
  if (adopting) {
    ownSession = readStat(process.pid)?.sid;
    process.on("SIGCHLD", scheduleReap);
  }
  return adopting;
}

/**
 * Records a child Bun just spawned with `tag` (call it synchronously after the spawn), so it is
 * never reaped here; returns the function to call once Bun has reaped it.
 */
export function trackSpawned(pid: number, tag: string): () => void {
  spawned.set(pid, tag);
  if (adopting && bunHoldsPidfds === undefined) bunHoldsPidfds = pidfdTargets().has(pid);
  return () => spawned.delete(pid);
}

/**
 * One pass: SIGKILL every live process whose environment carries one of `tags`, with all its
 * descendants whatever their environment, then reap what can be reaped. Returns how many live
 * processes were signalled (0: none was left). Synchronous, so it also works in an exit hook.
 */
export function killTaggedOnce(tags: ReadonlySet<string>): number {
  if (!adopting || tags.size === 0) return 0;
  const entries = [...tags].map((tag) => `${processTagVariable}=${tag}`);
  const children = childrenReader();
  const ownChildren = children(process.pid);
  // Adopted, everything a spawn started is below skiff; a tagged process is a child of skiff or
  // below another tagged one, so the roots are among skiff's children.
  const pending = ownChildren.filter((pid) => {
    const tag = spawned.get(pid);
    return tag === undefined ? environHasAny(pid, entries) : tags.has(tag);
  });
  const seen = new Set<number>();
  let signalled = 0;
  while (pending.length > 0) {
    const pid = pending.pop()!;
    if (seen.has(pid) || pid === process.pid) continue;
    seen.add(pid);
    pending.push(...children(pid));
    const state = readStat(pid)?.state;
    if (state === undefined || state === "Z" || state === "X") continue;
    try {
      process.kill(pid, "SIGKILL");
      signalled++;
    } catch {
      // Gone meanwhile.
    }
  }
  reapZombies(ownChildren);
  return signalled;
}

/**
 * Kills every process carrying one of `tags`, pass after pass (a process may fork between a
 * walk and the kill; a killed parent's children are re-parented to skiff only once it is dead),
 * until a pass finds none or `sweepLimitMs` is spent. Returns how many were still alive at the
 * last pass (0 when all are gone; more only for processes that cannot die, such as one stuck in
 * an uninterruptible read).
 */
export async function killTagged(tags: ReadonlySet<string>): Promise<number> {
  const started = Date.now();
  // Done after two passes in a row find nothing alive: a process whose parent was killed just
  // before a pass is re-parented to skiff while that pass walks, and is found only by the next.
  let quietPasses = 0;
  for (let wait = 1; ; wait = Math.min(wait * 2, maxRoundWaitMs)) {
    const signalled = killTaggedOnce(tags);
    quietPasses = signalled === 0 ? quietPasses + 1 : 0;
    if (quietPasses >= 2 || Date.now() - started > sweepLimitMs) {
      reapSoon();
      return signalled;
    }
    await Bun.sleep(wait);
  }
}

/**
 * A process killed while its parent still lived becomes skiff's zombie only once that parent has
 * been reaped, after the sweep: SIGCHLD should say so, but Bun does not always pass it on, so a few
 * more passes follow each sweep.
 */
function reapSoon(): void {
  if (!adopting) return;
  for (const delay of reapRetryDelaysMs) setTimeout(reapAdopted, delay).unref();
}

/** When the passes after a sweep run, in ms. */
const reapRetryDelaysMs = [20, 100, 300, 1_000, 3_000];

/**
 * Reaps skiff's zombie children that are provably not Bun's: Bun's own children are in `spawned`
 * or hold a pidfd, and a process Bun forked is in skiff's session or leads its own, so a zombie
 * in any other session was adopted. Returns how many were reaped.
 */
export function reapAdopted(): number {
  return adopting ? reapZombies(childrenReader()(process.pid)) : 0;
}

function reapZombies(ownChildren: readonly number[]): number {
  let pidfds: Set<number> | undefined;
  let reaped = 0;
  for (const pid of ownChildren) {
    if (spawned.has(pid)) continue;
    const stat = readStat(pid);
    if (stat?.state !== "Z") continue;
    if (stat.sid === ownSession || stat.sid === pid) {
      // Could be a child Bun spawned outside `trackSpawned` (a test's, a library's): only with
      // Bun's pidfds to tell, and only when none of them is this pid.
      if (bunHoldsPidfds !== true) continue;
      pidfds ??= pidfdTargets();
      if (pidfds.has(pid)) continue;
    }
    if (reapChild(pid)) reaped++;
  }
  return reaped;
}

// On SIGCHLD (any child's exit, Bun's own included) reap at most once per interval: a burst of
// exits costs one walk of skiff's children, and an adopted zombie waits at most this long.
function scheduleReap(): void {
  if (reapScheduled) return;
  reapScheduled = true;
  setTimeout(() => {
    reapScheduled = false;
    reapAdopted();
  }, reapIntervalMs).unref();
}
