import { describe, expect, it } from "bun:test";
import { ServiceStatus } from "../../src/server/service-status.ts";

/** A ServiceStatus whose timers are ticked by hand, sending into an array. */
function harness(options: { watchdogEveryMs?: number; failSends?: boolean } = {}) {
  const sent: string[] = [];
  const errors: unknown[] = [];
  const runs = { size: 0, draining: false };
  const timers = new Map<number, () => void>();
  const status = new ServiceStatus({
    send: (state) => {
      if (options.failSends) throw new Error("sendto failed: ECONNREFUSED");
      sent.push(state);
    },
    runs,
    ...(options.watchdogEveryMs === undefined ? {} : { watchdogEveryMs: options.watchdogEveryMs }),
    statusEveryMs: 2_000,
    onSendError: (error) => errors.push(error),
    every: (ms, tick) => {
      timers.set(ms, tick);
      return () => timers.delete(ms);
    },
  });
  const tick = (ms: number) => timers.get(ms)?.();
  return { status, sent, errors, runs, timers, tick };
}

describe("ServiceStatus", () => {
  it("says READY=1 with a status line, then sends STATUS= only when the text changes", () => {
    const { status, sent, runs, tick } = harness();
    status.ready("http://127.0.0.1:8080");
    expect(sent).toEqual(["READY=1\nSTATUS=serving on http://127.0.0.1:8080: 0 runs in flight"]);
    tick(2_000);
    expect(sent).toHaveLength(1);
    runs.size = 1;
    tick(2_000);
    runs.size = 1;
    tick(2_000);
    runs.size = 12;
    tick(2_000);
    expect(sent.slice(1)).toEqual(["STATUS=serving on http://127.0.0.1:8080: 1 run in flight", "STATUS=serving on http://127.0.0.1:8080: 12 runs in flight"]);
  });

  it("pings WATCHDOG=1 on each tick of the watchdog interval, and only after READY=1", () => {
    const { status, sent, timers, tick } = harness({ watchdogEveryMs: 15_000 });
    expect(timers.size).toBe(0);
    status.ready("http://[::1]:8080");
    tick(15_000);
    tick(15_000);
    expect(sent.filter((state) => state === "WATCHDOG=1")).toHaveLength(2);
    status.close();
    expect(timers.size).toBe(0);
  });

  it("says STOPPING=1 and what the drain waits for; later statuses say draining", () => {
    const { status, sent, runs, tick } = harness({ watchdogEveryMs: 1_000 });
    status.ready("http://127.0.0.1:8080");
    runs.size = 3;
    runs.draining = true;
    status.stopping(30_000);
    expect(sent.at(-1)).toBe("STOPPING=1\nSTATUS=draining: 3 runs in flight, aborted after shutdown_timeout 30s");
    runs.size = 0;
    tick(2_000);
    tick(1_000); // pings go on during the drain, which may outlast WatchdogSec=
    expect(sent.slice(-2)).toEqual(["STATUS=draining: 0 runs in flight, aborted after shutdown_timeout 30s", "WATCHDOG=1"]);
  });

  it("reports the first failed send once and keeps trying", () => {
    const { status, errors, tick } = harness({ watchdogEveryMs: 100, failSends: true });
    status.ready("http://127.0.0.1:8080");
    tick(100);
    tick(100);
    status.stopping(1_000);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain("ECONNREFUSED");
  });
});
