/**
 * A signal that aborts when the parent does or when `timeoutMs` passes, whichever comes first.
 * A `timeoutMs` of 0 means no limit, as "0" does for every duration key of the config.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  /** True when the timeout fired (and the parent had not aborted first). */
  timedOut(): boolean;
  /** Clears the timer and the parent listener; call it when the work is done. */
  dispose(): void;
}

/**
 * Joins a parent signal with a timeout using one controller, one timer and one listener. It is
 * what `AbortSignal.any([parent, AbortSignal.timeout(ms)])` does, at a third of the live objects:
 * with 10,000 sessions running three tools each, every signal counts.
 */
export function deadline(parent: AbortSignal, timeoutMs: number): Deadline {
  const controller = new AbortController();
  let fired = false;
  const onParentAbort = () => controller.abort(parent.reason);
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          fired = true;
          controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError"));
        }, timeoutMs)
      : undefined;
  if (parent.aborted) onParentAbort();
  else parent.addEventListener("abort", onParentAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => fired && !parent.aborted,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener("abort", onParentAbort);
    },
  };
}
