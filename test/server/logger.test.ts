import { describe, expect, it } from "bun:test";
import { createLogger } from "../../src/server/logger.ts";

const at = () => new Date("2025-01-02T03:04:05.678Z");

describe("createLogger", () => {
  it("writes JSON lines with time, level and msg first, dropping undefined fields", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(l), now: at });
    log.log("info", "request", { method: "GET", status: 200, run_id: undefined, level: "spoofed" });
    expect(lines).toEqual(['{"time":"2025-01-02T03:04:05.678Z","level":"info","msg":"request","method":"GET","status":200}\n']);
  });

  it("writes key=value text, quoting values with spaces", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "debug", format: "text", write: (l) => lines.push(l), now: at });
    log.log("warn", "shutting down", { route: "/v1/runs", note: "two words" });
    expect(lines).toEqual(['2025-01-02T03:04:05.678Z WARN  shutting down route=/v1/runs note="two words"\n']);
  });

  it("drops lines under the level", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "warn", format: "json", write: (l) => lines.push(l) });
    log.log("debug", "a");
    log.log("info", "b");
    log.log("error", "c");
    expect(lines).toHaveLength(1);
  });
});
