/**
 * systemd's watchdog (sd_watchdog_enabled(3)): with WatchdogSec= set, systemd passes
 * WATCHDOG_USEC (and WATCHDOG_PID) and restarts the service when no "WATCHDOG=1" arrives within
 * that time. Pinging at half the interval, as systemd advises, leaves a whole half for a late tick.
 */

const maxTimerMs = 2_147_483_647;

/** How often to send WATCHDOG=1, or why not. */
export type WatchdogSchedule =
  | { readonly kind: "off" }
  | { readonly kind: "on"; readonly everyMs: number; readonly timeoutMs: number }
  | { readonly kind: "invalid"; readonly reason: string };

/**
 * The ping interval systemd asks of process `pid`: half of WATCHDOG_USEC. Off when the variable is
 * unset or WATCHDOG_PID names another process (the variables were meant for a parent).
 */
export function watchdogSchedule(env: Readonly<Record<string, string | undefined>>, pid: number): WatchdogSchedule {
  const usecText = env["WATCHDOG_USEC"];
  if (usecText === undefined || usecText === "") return { kind: "off" };
  const pidText = env["WATCHDOG_PID"];
  if (pidText !== undefined && pidText !== "" && pidText !== String(pid)) return { kind: "off" };
  if (!/^\d+$/.test(usecText) || Number(usecText) === 0) {
    return { kind: "invalid", reason: `WATCHDOG_USEC=${usecText} is not a positive number of microseconds` };
  }
  const timeoutMs = Number(usecText) / 1000;
  // A timer cannot wait longer than 2^31-1 ms (it would fire at once); a ping that often is early, never late.
  return { kind: "on", everyMs: Math.min(maxTimerMs, Math.max(1, Math.floor(timeoutMs / 2))), timeoutMs };
}
