/**
 * Paces garbage collection while a service is busy. Under a burst of thousands of concurrent runs
 * the JavaScript heap grows to hold the garbage of all of them before the collector catches up;
 * asking for an asynchronous collection every half second while runs are in flight keeps that
 * growth in check (B4: resident memory per in-flight session 69 → 51 KB, wall time unchanged;
 * bench/README.md). Idle, it does nothing.
 */

/** Calls `tick` every `ms` until the returned function is called. */
export type IntervalScheduler = (tick: () => void, ms: number) => () => void;

/** setInterval on a timer that never keeps the process alive. */
export const unrefInterval: IntervalScheduler = (tick, ms) => {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
};

export interface GcPacerOptions {
  /** Milliseconds between collections while busy; 0 turns pacing off. */
  readonly intervalMs: number;
  /** True while there is work in flight (e.g. runs in progress). */
  readonly busy: () => boolean;
  /** Starts a collection without waiting for it (Bun.gc(false) in production). */
  readonly collect?: () => void;
  /** What ticks the pacer (`unrefInterval` in production; tests tick by hand). */
  readonly every?: IntervalScheduler;
}

/** Starts pacing; returns a function that stops it. The default timer never keeps the process alive. */
export function startGcPacer(options: GcPacerOptions): () => void {
  if (options.intervalMs <= 0) return () => {};
  const collect = options.collect ?? (() => Bun.gc(false));
  const every = options.every ?? unrefInterval;
  return every(() => {
    if (options.busy()) collect();
  }, options.intervalMs);
}
