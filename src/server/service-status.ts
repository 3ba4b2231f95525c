/**
 * What `skiff serve` tells its service manager (systemd's sd_notify protocol): READY=1 once it
 * serves, a STATUS= line a person reads in `systemctl status` (runs in flight, draining),
 * WATCHDOG=1 pings from the event loop, and STOPPING=1 when a drain starts.
 */
import { openSdNotify } from "../platform/sd-notify.ts";
import { watchdogSchedule } from "../platform/sd-watchdog.ts";
import { formatDuration } from "../util/duration.ts";
import type { Logger } from "./logger.ts";
import type { RunTracker } from "./run-tracker.ts";

/** What a ServiceStatus needs: a way to send, the runs it reports on, and the watchdog's interval. */
export interface ServiceStatusOptions {
  /** Sends one notification ("READY=1\nSTATUS=…"); may throw. */
  readonly send: (state: string) => void;
  readonly runs: Pick<RunTracker, "size" | "draining">;
  /** How often to send WATCHDOG=1 (half of WatchdogSec=), when systemd asked for pings. */
  readonly watchdogEveryMs?: number;
  /** How often STATUS= is refreshed, when its text changed. */
  readonly statusEveryMs?: number;
  /** Told about the first notification that could not be sent; later failures are not repeated. */
  readonly onSendError: (error: unknown) => void;
  /** Runs `tick` every `ms` on the event loop until the returned stop is called (default: an unref'd setInterval). */
  readonly every?: (ms: number, tick: () => void) => () => void;
}

function everyOnEventLoop(ms: number, tick: () => void): () => void {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
}

/** Readiness, status, watchdog and stopping notifications of one service process. */
export class ServiceStatus {
  readonly #options: ServiceStatusOptions;
  readonly #stops: (() => void)[] = [];
  #url = "";
  #shutdownTimeoutMs = 0;
  #lastStatus = "";
  #failed = false;

  constructor(options: ServiceStatusOptions) {
    this.#options = options;
  }

  /** The service answers requests: READY=1, then the status every few seconds and watchdog pings. */
  ready(url: string): void {
    this.#url = url;
    this.#send(`READY=1\nSTATUS=${this.#statusText()}`);
    this.#lastStatus = this.#statusText();
    // Timers on the event loop: a blocked loop stops the pings, which is what the watchdog is for.
    const { watchdogEveryMs, statusEveryMs = 2_000, every = everyOnEventLoop } = this.#options;
    if (watchdogEveryMs !== undefined) this.#stops.push(every(watchdogEveryMs, () => this.#send("WATCHDOG=1")));
    this.#stops.push(every(statusEveryMs, () => this.#refreshStatus()));
  }

  /** A drain has begun (SIGTERM): STOPPING=1 and a status saying what it waits for. */
  stopping(shutdownTimeoutMs: number): void {
    this.#shutdownTimeoutMs = shutdownTimeoutMs;
    this.#lastStatus = this.#statusText(true);
    this.#send(`STOPPING=1\nSTATUS=${this.#lastStatus}`);
  }

  /** Stops the timers (the watchdog pings until the process is about to exit). */
  close(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }

  #refreshStatus(): void {
    const text = this.#statusText();
    if (text === this.#lastStatus) return;
    this.#lastStatus = text;
    this.#send(`STATUS=${text}`);
  }

  #statusText(draining = this.#options.runs.draining): string {
    const size = this.#options.runs.size;
    const inFlight = `${size} ${size === 1 ? "run" : "runs"} in flight`;
    if (!draining) return `serving on ${this.#url}: ${inFlight}`;
    return `draining: ${inFlight}, aborted after shutdown_timeout ${formatDuration(this.#shutdownTimeoutMs)}`;
  }

  #send(state: string): void {
    try {
      this.#options.send(state);
    } catch (error) {
      if (this.#failed) return;
      this.#failed = true;
      this.#options.onSendError(error);
    }
  }
}

/**
 * A ServiceStatus when systemd asked for notifications (NOTIFY_SOCKET), with watchdog pings when
 * it asked for those too (WATCHDOG_USEC); undefined otherwise. Settings it cannot use are logged.
 */
export function openServiceStatus(options: {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly pid: number;
  readonly runs: ServiceStatusOptions["runs"];
  readonly logger: Logger;
}): { readonly status: ServiceStatus; close(): void } | undefined {
  const { logger } = options;
  const notify = openSdNotify(options.env);
  if (notify.kind === "unusable") logger.log("warn", "systemd notifications are off", { reason: notify.reason });
  if (notify.kind !== "on") return undefined;
  const watchdog = watchdogSchedule(options.env, options.pid);
  if (watchdog.kind === "invalid") logger.log("warn", "systemd watchdog pings are off", { reason: watchdog.reason });
  const { notifier } = notify;
  const status = new ServiceStatus({
    send: (state) => notifier.send(state),
    runs: options.runs,
    ...(watchdog.kind === "on" ? { watchdogEveryMs: watchdog.everyMs } : {}),
    onSendError: (error) =>
      logger.log("warn", "a systemd notification could not be sent; later failures are not logged", {
        socket: notifier.socket,
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  logger.log("debug", "systemd notifications on", {
    socket: notifier.socket,
    ...(watchdog.kind === "on" ? { watchdog_ping_ms: watchdog.everyMs } : {}),
  });
  return {
    status,
    close: () => {
      status.close();
      notifier.close();
    },
  };
}
