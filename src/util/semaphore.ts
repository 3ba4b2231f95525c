/**
 * A counting semaphore: `run` waits for a free slot and holds it while the work runs. A waiter
 * whose signal aborts leaves the line at once, so a cancelled call never runs late.
 */
export function createSemaphore(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return {
    async run<R>(work: () => Promise<R>, signal?: AbortSignal): Promise<R> {
      if (active < limit) active++;
      else {
        await new Promise<void>((resolve, reject) => {
          if (signal?.aborted) return reject(signal.reason);
          const onAbort = () => {
            const index = waiting.indexOf(grant);
            if (index !== -1) waiting.splice(index, 1);
            reject(signal?.reason);
          };
          // The slot passes straight from the releaser to this waiter (active is not decremented).
          const grant = () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          };
          waiting.push(grant);
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
      return waiting.length;
    },
  };
}
