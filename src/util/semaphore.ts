/** A counting semaphore (see createSemaphore). */
export type Semaphore = ReturnType<typeof createSemaphore>;

/**
 * A counting semaphore. `run` waits for a free slot and holds it while the work runs; hot paths
 * use `tryAcquire` (no promise when a slot is free, the common case) or `acquire`, then `release`.
 * A waiter whose signal aborts leaves the line at once, so a cancelled call never runs late.
 */
export function createSemaphore(limit: number) {
  let active = 0;
  // A Set keeps insertion order and deletes in O(1): cancelling thousands of waiters at once
  // (shutdown with a long queue) stays linear.
  const waiting = new Set<() => void>();

  /** Takes a slot if one is free. */
  const tryAcquire = (): boolean => {
    if (active >= limit) return false;
    active++;
    return true;
  };

  /** Waits for a slot (resolves at once when one is free); rejects with the signal's reason. */
  const acquire = (signal?: AbortSignal): Promise<void> => {
    if (tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        waiting.delete(grant);
        reject(signal?.reason);
      };
      // The slot passes straight from the releaser to this waiter (active is not decremented).
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      waiting.add(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  };

  /** Gives a slot back: to the first waiter, else to the pool. */
  const release = (): void => {
    const next = waiting.values().next();
    if (next.done) active--;
    else {
      waiting.delete(next.value);
      next.value();
    }
  };

  return {
    tryAcquire,
    acquire,
    release,
    async run<R>(work: () => Promise<R>, signal?: AbortSignal): Promise<R> {
      if (!tryAcquire()) await acquire(signal);
      try {
        return await work();
      } finally {
        release();
      }
    },
    /** Work in progress, for metrics. */
    get active() {
      return active;
    },
    /** Calls waiting for a slot, for metrics. */
    get queued() {
      return waiting.size;
    },
  };
}
