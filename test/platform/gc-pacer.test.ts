import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { type IntervalScheduler, startGcPacer, unrefInterval } from "../../src/platform/gc-pacer.ts";

/** A scheduler the test ticks by hand: no clock, so no tick comes early, late or twice. */
function manualScheduler() {
  const state = { ms: undefined as number | undefined, stopped: false, tick: undefined as (() => void) | undefined };
  const every: IntervalScheduler = (tick, ms) => {
    state.tick = tick;
    state.ms = ms;
    return () => {
      state.stopped = true;
      state.tick = undefined;
    };
  };
  return { every, state, tick: () => state.tick?.() };
}

describe("startGcPacer", () => {
  it("collects on each tick while busy, not while idle, and stops", () => {
    let busy = false;
    let collections = 0;
    const clock = manualScheduler();
    const stop = startGcPacer({ intervalMs: 20, busy: () => busy, collect: () => collections++, every: clock.every });
    expect(clock.state.ms).toBe(20);
    clock.tick();
    clock.tick();
    expect(collections).toBe(0);
    busy = true;
    clock.tick();
    clock.tick();
    clock.tick();
    expect(collections).toBe(3);
    busy = false;
    clock.tick();
    expect(collections).toBe(3);
    stop();
    expect(clock.state.stopped).toBe(true);
    clock.tick();
    expect(collections).toBe(3);
  });

  it("does nothing when the interval is 0: no timer, no collection", () => {
    let collections = 0;
    const clock = manualScheduler();
    startGcPacer({ intervalMs: 0, busy: () => true, collect: () => collections++, every: clock.every })();
    expect(clock.state.tick).toBeUndefined();
    expect(collections).toBe(0);
  });

  it("collects with the real timer while busy", async () => {
    const collected = Promise.withResolvers<void>();
    const stop = startGcPacer({ intervalMs: 1, busy: () => true, collect: () => collected.resolve() });
    await collected.promise;
    stop();
  });
});

describe("unrefInterval", () => {
  it("never keeps the process alive: a process with a pacer running still exits", async () => {
    const module = join(import.meta.dir, "../../src/platform/gc-pacer.ts");
    const script = `const { unrefInterval } = await import(${JSON.stringify(module)}); unrefInterval(() => {}, 5); console.log("started");`;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    // Bounded: a timer that held the process would be killed here and fail the test.
    const killer = setTimeout(() => child.kill(), 15_000);
    const code = await child.exited;
    clearTimeout(killer);
    expect(await new Response(child.stdout).text()).toBe("started\n");
    expect(child.signalCode).toBeNull();
    expect(code).toBe(0);
  }, 20_000);

  it("ticks again and again, not once", async () => {
    let ticks = 0;
    const third = Promise.withResolvers<void>();
    const stop = unrefInterval(() => {
      if (++ticks === 3) third.resolve();
    }, 1);
    await third.promise;
    stop();
    expect(ticks).toBeGreaterThanOrEqual(3);
  });
});
