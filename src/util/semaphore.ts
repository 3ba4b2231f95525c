/** A counting semaphore (see createSemaphore). */
export type Semaphore = ReturnType<typeof createSemaphore>;

/**
 * A counting semaphore: `run` waits for a free slot and holds it while the work runs. A waiter
 * whose signal aborts leaves the line at once, so a cancelled call never runs late.
 */
export function createSemaphore(limit: number) {
  let active = 0;
  // A Set keeps insertion order and deletes in O(1): cancelling thousands of waiters at once
  // (shutdown with a long queue) stays linear.
  const waiting = new Set<() => void>();
  const release = () => {
    const next = waiting.values().next();
    if (next.done) active--;
    else {
      waiting.delete(next.value);
      next.value();
    }
  };
  return {
    async run<R>(work: () => Promise<R>, signal?: AbortSignal): Promise<R> {
      if (active < limit) active++;
      else {
        await new Promise<void>((resolve, reject) => {
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
      }
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
