import type { Logger } from "./logger.ts";
import type { RunTracker } from "./run-tracker.ts";
import type { RunningServer } from "./serve.ts";
import type { ServiceStatus } from "./service-status.ts";

/** What a graceful shutdown stops, in order. */
export interface ShutdownPlan {
  readonly runs: RunTracker;
  readonly server: RunningServer;
  /** How long in-flight runs may finish before they are aborted. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Run after the server has stopped, in order (flush spans, close the store); failures are logged. */
  readonly cleanup: readonly (readonly [name: string, close: () => Promise<void>])[];
  /** Resolves when the caller wants to skip the wait (a second SIGTERM or Ctrl-C). */
  readonly hurry?: Promise<void>;
  /** The service manager, told that the drain began (systemd: STOPPING=1 and a status line). */
  readonly status?: Pick<ServiceStatus, "stopping">;
}

/** Time given to aborted runs to send their error before connections are closed. */
const abortGraceMs = 5_000;

/**
 * Graceful shutdown (DESIGN §7): stop accepting, /readyz 503, let runs finish up to the timeout,
 * abort the rest (their clients get a 503 or a `run.failed` event saying so), answer what is in
 * flight, then clean up. Never throws.
 */
export async function shutdownGracefully(plan: ShutdownPlan): Promise<void> {
  const { runs, server, logger } = plan;
  logger.log("info", "shutting down", { runs_in_flight: runs.size, timeout_ms: plan.timeoutMs });
  runs.drain();
  plan.status?.stopping(plan.timeoutMs);
  const answered = server.stopAccepting();

  const hurry = plan.hurry ?? new Promise<void>(() => {});
  const finished = await Promise.race([runs.idle(plan.timeoutMs), hurry.then(() => false)]);
  if (!finished) {
    logger.log("warn", "aborting runs still in flight", { runs_in_flight: runs.size });
    runs.abortAll();
    await runs.idle(abortGraceMs);
  }
  // Let the last responses and final stream events reach their clients before closing.
  await withTimeout(answered, abortGraceMs);
  await server.closeAll().catch(() => {});

  for (const [name, close] of plan.cleanup) {
    try {
      await close();
    } catch (error) {
      logger.log("error", "cleanup failed", { step: name, error: error instanceof Error ? error.name : typeof error });
    }
  }
  logger.log("info", "stopped");
}

/** Waits for `promise` (its failure counts as done) or `ms`, whichever comes first. */
async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
