import { CancelReason } from "../agent/index.ts";

/** The abort reason for runs still going when the shutdown timeout ends. */
export class ShutdownReason extends CancelReason {
  constructor() {
    super("the server is shutting down");
  }
}

/** A run let in: its signal (client gone, shutdown) and the release to call exactly once when it ends. */
export interface Admission {
  readonly signal: AbortSignal;
  release(): void;
}

/**
 * Counts the runs in flight, refuses more than `limit`, and drives shutdown: `drain()` stops
 * admissions, `idle()` waits for the runs to finish, `abortAll()` stops the rest.
 */
export class RunTracker {
  readonly limit: number;
  readonly #running = new Set<AbortController>();
  readonly #idleWaiters = new Set<() => void>();
  #draining = false;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Runs in flight now. */
  get size(): number {
    return this.#running.size;
  }

  /** True once shutdown has begun. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Lets a run in, tied to `clientSignal` (the request's: it aborts when the client disconnects),
   * or says why not.
   */
  admit(clientSignal: AbortSignal): Admission | "full" | "draining" {
    if (this.#draining) return "draining";
    if (this.#running.size >= this.limit) return "full";
    const controller = new AbortController();
    const onClientAbort = () => controller.abort(new CancelReason("the client disconnected"));
    if (clientSignal.aborted) onClientAbort();
    else clientSignal.addEventListener("abort", onClientAbort, { once: true });
    this.#running.add(controller);
    let released = false;
    return {
      signal: controller.signal,
      release: () => {
        if (released) return;
        released = true;
        clientSignal.removeEventListener("abort", onClientAbort);
        this.#running.delete(controller);
        if (this.#running.size === 0) for (const wake of this.#idleWaiters) wake();
      },
    };
  }

  /** Stops admitting runs; /readyz reports 503 from now on. */
  drain(): void {
    this.#draining = true;
  }

  /** Resolves true when no run is in flight, or false when `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#idleWaiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idleWaiters.delete(wake);
        resolve(false);
      }, timeoutMs);
      this.#idleWaiters.add(wake);
    });
  }

  /** Aborts every run in flight with `reason`. */
  abortAll(reason: unknown = new ShutdownReason()): void {
    for (const controller of this.#running) controller.abort(reason);
  }
}
