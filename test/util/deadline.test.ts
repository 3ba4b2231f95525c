import { describe, expect, it } from "bun:test";
import { deadline } from "../../src/util/deadline.ts";

/** Resolves after every timer due within `ms` has fired: timers run in the order they are due. */
const afterTimersDueWithin = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("deadline", () => {
  it("aborts with a TimeoutError when its time passes", async () => {
    const limit = deadline(new AbortController().signal, 1);
    await afterTimersDueWithin(5);
    expect(limit.signal.aborted).toBe(true);
    expect(limit.timedOut()).toBe(true);
    expect((limit.signal.reason as DOMException).name).toBe("TimeoutError");
    limit.dispose();
  });

  it("reads 0 as no limit: only the parent ends it (a 0 ms timer would have fired first)", async () => {
    const parent = new AbortController();
    const limit = deadline(parent.signal, 0);
    await afterTimersDueWithin(5);
    expect(limit.signal.aborted).toBe(false);
    parent.abort(new Error("cancelled"));
    expect(limit.signal.aborted).toBe(true);
    expect(limit.timedOut()).toBe(false);
    expect((limit.signal.reason as Error).message).toBe("cancelled");
    limit.dispose();
  });
});
