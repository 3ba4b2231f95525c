/**
 * The `session_ttl` sweep: deletes sessions idle longer than the TTL, right away and then every
 * interval, through the store's indexed `deleteExpired`. Its timer is unref'd, so it never keeps
 * a process alive, and a slow sweep is never overlapped by the next.
 */
import type { SessionStore } from "./store.ts";

/** How the sweep runs; only `ttlMs` and `onError` are needed. */
export interface SweeperOptions {
  /** Sessions whose last turn is older than this are deleted. */
  readonly ttlMs: number;
  /** A failed sweep's error (the next interval tries again); never thrown. */
  readonly onError: (error: unknown) => void;
  /** Told how many sessions a sweep deleted, when it deleted any. */
  readonly onSwept?: (count: number) => void;
  readonly now?: () => number;
  /** Default: `sweepIntervalFor(ttlMs)`. */
  readonly intervalMs?: number;
}

/** A running sweep. */
export interface Sweeper {
  /** Stops the timer and waits for a sweep in progress, so the store can be closed after it. */
  stop(): Promise<void>;
}

/** Rows deleted per statement: short transactions, so commits never wait long behind a sweep. */
const batchSize = 500;
/** Batches per sweep; a backlog larger than this is worked off over the next intervals. */
const maxBatches = 20;

/** A tenth of the TTL, between 1 s and 5 min: expiry is late by at most that. */
export function sweepIntervalFor(ttlMs: number): number {
  return Math.min(Math.max(Math.round(ttlMs / 10), 1_000), 5 * 60_000);
}

/** Starts sweeping `store`; call `stop()` before closing it. */
export function startSessionSweeper(store: Pick<SessionStore, "deleteExpired">, options: SweeperOptions): Sweeper {
  const now = options.now ?? Date.now;
  let running: Promise<void> | undefined;
  let stopped = false;

  const sweepOnce = async () => {
    try {
      let total = 0;
      for (let batch = 0; batch < maxBatches && !stopped; batch++) {
        const deleted = await store.deleteExpired(now() - options.ttlMs, batchSize);
        total += deleted;
        if (deleted < batchSize) break;
      }
      if (total > 0) options.onSwept?.(total);
    } catch (error) {
      options.onError(error);
    }
  };
  const tick = () => {
    if (running || stopped) return;
    running = sweepOnce().finally(() => (running = undefined));
  };

  const timer = setInterval(tick, options.intervalMs ?? sweepIntervalFor(options.ttlMs));
  timer.unref();
  tick();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
