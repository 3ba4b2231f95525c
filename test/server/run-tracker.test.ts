import { describe, expect, it } from "bun:test";
import { RunTracker, ShutdownReason } from "../../src/server/run-tracker.ts";

describe("RunTracker", () => {
  it("admits up to its limit and frees a place on release", () => {
    const runs = new RunTracker(2);
    const client = new AbortController();
    const a = runs.admit(client.signal);
    const b = runs.admit(client.signal);
    expect(runs.admit(client.signal)).toBe("full");
    if (typeof a === "string" || typeof b === "string") throw new Error("not admitted");
    a.release();
    a.release();
    expect(runs.size).toBe(1);
    expect(typeof runs.admit(client.signal)).toBe("object");
  });

  it("aborts a run when its client goes away", () => {
    const runs = new RunTracker(1);
    const client = new AbortController();
    const admission = runs.admit(client.signal);
    if (typeof admission === "string") throw new Error("not admitted");
    client.abort();
    expect(admission.signal.aborted).toBe(true);
    expect(String(admission.signal.reason)).toMatch(/client disconnected/);
  });

  it("drains: refuses new runs, waits for the rest, aborts them with a shutdown reason", async () => {
    const runs = new RunTracker(5);
    const admission = runs.admit(new AbortController().signal);
    if (typeof admission === "string") throw new Error("not admitted");
    runs.drain();
    expect(runs.admit(new AbortController().signal)).toBe("draining");
    expect(await runs.idle(20)).toBe(false);
    runs.abortAll();
    expect(admission.signal.reason).toBeInstanceOf(ShutdownReason);
    const idle = runs.idle(1000);
    admission.release();
    expect(await idle).toBe(true);
  });
});
