import { describe, expect, it } from "bun:test";
import { startGcPacer } from "../../src/platform/gc-pacer.ts";

describe("startGcPacer", () => {
  it("collects at its interval only while busy, and stops", async () => {
    let busy = false;
    let collections = 0;
    const stop = startGcPacer({ intervalMs: 20, busy: () => busy, collect: () => collections++ });
    await Bun.sleep(120);
    expect(collections).toBe(0);
    busy = true;
    await Bun.sleep(200);
    expect(collections).toBeGreaterThanOrEqual(3);
    stop();
    const after = collections;
    await Bun.sleep(100);
    expect(collections).toBe(after);
  });

  it("does nothing when the interval is 0", async () => {
    let collections = 0;
    startGcPacer({ intervalMs: 0, busy: () => true, collect: () => collections++ })();
    await Bun.sleep(50);
    expect(collections).toBe(0);
  });
});
