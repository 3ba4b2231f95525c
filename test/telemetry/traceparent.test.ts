import { describe, expect, it } from "bun:test";
import { formatTraceparent, parseTraceparent } from "../../src/telemetry/traceparent.ts";

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const spanId = "00f067aa0ba902b7";

describe("parseTraceparent", () => {
  it("reads version 00 with the sampled flag, case-insensitively", () => {
    expect(parseTraceparent(`00-${traceId}-${spanId}-01`)).toEqual({ traceId, spanId, sampled: true });
    expect(parseTraceparent(` 00-${traceId.toUpperCase()}-${spanId}-00 `)).toEqual({ traceId, spanId, sampled: false });
  });

  it("reads a future version by its first four fields", () => {
    expect(parseTraceparent(`01-${traceId}-${spanId}-03-extra`)).toEqual({ traceId, spanId, sampled: true });
  });

  it("rejects malformed headers, all-zero ids, version ff and extra fields on 00", () => {
    for (const bad of [
      "",
      "garbage",
      `00-${traceId}-${spanId}`,
      `00-${"0".repeat(32)}-${spanId}-01`,
      `00-${traceId}-${"0".repeat(16)}-01`,
      `ff-${traceId}-${spanId}-01`,
      `00-${traceId}-${spanId}-01-extra`,
      `00-${traceId.slice(1)}-${spanId}-01`,
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });
});

describe("formatTraceparent", () => {
  it("writes version 00 and round-trips", () => {
    const header = formatTraceparent({ traceId, spanId, sampled: true });
    expect(header).toBe(`00-${traceId}-${spanId}-01`);
    expect(parseTraceparent(header)).toEqual({ traceId, spanId, sampled: true });
  });
});
