/** A provider's circuit: closed (in use), open (skipped until the cool-down ends), half-open (one probe). */
export type CircuitState = "closed" | "open" | "half_open";

export interface BreakerOptions {
  /** Failures in a row that open the circuit. */
  readonly failures: number;
  readonly cooldownMs: number;
  readonly now?: () => number;
  /** Told of every state change, e.g. to log it. */
  readonly onChange?: (state: CircuitState, consecutiveFailures: number) => void;
}

/** One circuit breaker. `tryAcquire` says whether a request may go to the provider now. */
export interface CircuitBreaker {
  readonly state: CircuitState;
  readonly consecutiveFailures: number;
  /** True when a request may be sent: closed, or the one probe of a half-open circuit. */
  tryAcquire(): boolean;
  success(): void;
  failure(): void;
  /** A request that was allowed through ended in a way that says nothing about the provider (e.g. cancelled). */
  release(): void;
}

/**
 * Creates a breaker: after `failures` failures in a row it opens for `cooldownMs`; then one
 * request probes it (half-open): success closes it, failure opens it again for another cool-down.
 */
export function createBreaker(options: BreakerOptions): CircuitBreaker {
  const now = options.now ?? Date.now;
  let state: CircuitState = "closed";
  let consecutive = 0;
  let openedAt = 0;
  let probing = false;
  const become = (next: CircuitState) => {
    if (next === state) return;
    state = next;
    options.onChange?.(state, consecutive);
  };
  return {
    get state() {
      if (state === "open" && now() - openedAt >= options.cooldownMs) return "half_open";
      return state;
    },
    get consecutiveFailures() {
      return consecutive;
    },
    tryAcquire() {
      if (state === "closed") return true;
      if (state === "open") {
        if (now() - openedAt < options.cooldownMs) return false;
        become("half_open");
      }
      // Half-open: exactly one request probes the provider at a time.
      if (probing) return false;
      probing = true;
      return true;
    },
    success() {
      probing = false;
      consecutive = 0;
      become("closed");
    },
    failure() {
      probing = false;
      consecutive++;
      if (state === "half_open" || consecutive >= options.failures) {
        openedAt = now();
        become("open");
      }
    },
    release() {
      probing = false;
    },
  };
}
