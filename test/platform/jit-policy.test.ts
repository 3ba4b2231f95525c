import { describe, expect, it } from "bun:test";
import { startupDone } from "../../src/platform/jit-policy.ts";

describe("startupDone", () => {
  it("puts JavaScriptCore back on its normal tier-up thresholds", () => {
    const scales: number[] = [];
    startupDone({ setJITPolicy: (scale) => void scales.push(scale) });
    expect(scales).toEqual([1]);
  });

  it("is a no-op where the runtime has no JIT policy to set", () => {
    expect(() => startupDone({})).not.toThrow();
  });

  it("accepts Bun's own setter, which refuses anything below 1", () => {
    expect(() => startupDone()).not.toThrow();
    expect(() => Bun.unsafe.setJITPolicy(0)).toThrow(/>= 1/);
  });
});
