import { describe, expect, it } from "bun:test";
import { z } from "zod";
import { runAgent } from "../../src/agent/index.ts";
import { defineTool } from "../../src/tools/define-tool.ts";
import { call, scriptedModel } from "../fakes/scripted-model.ts";

/**
 * A day-long soak is out of reach in CI, so this drives 5,000 runs with large tool outputs through
 * one process and checks that memory comes back to near its warm level: tool output is capped,
 * and nothing a finished run held (messages, spans, timers, listeners) is kept alive.
 */
describe("bounded memory", () => {
  it("5,000 runs with 512 KiB tool outputs leave RSS within 64 MiB of its warm level", async () => {
    const chunk = "y".repeat(512 * 1024);
    const big = defineTool({ name: "dump", description: "large output", input: z.object({}), run: async () => chunk });
    const runBatch = async (count: number) => {
      const batch = Array.from({ length: count }, (_, i) =>
        runAgent({
          model: scriptedModel([{ toolCalls: [call(`c${i}`, "dump", {}), call(`d${i}`, "dump", {})] }, { text: "ok" }]),
          tools: [big],
          messages: [{ role: "user", content: `run ${i}` }],
          limits: { maxSteps: 4, toolTimeoutMs: 5_000, toolOutputLimit: 64 * 1024, timeoutMs: 30_000 },
        }),
      );
      const results = await Promise.all(batch);
      for (const result of results) expect(result.output).toBe("ok");
    };
    const settledRss = () => {
      Bun.gc(true);
      return process.memoryUsage().rss;
    };

    for (let i = 0; i < 6; i++) await runBatch(250);
    const warm = settledRss();
    for (let i = 0; i < 20; i++) await runBatch(250);
    const after = settledRss();
    const growthMiB = (after - warm) / 1024 / 1024;
    console.log(`soak: warm RSS ${(warm / 1024 / 1024).toFixed(1)} MiB, after 5,000 runs ${(after / 1024 / 1024).toFixed(1)} MiB (+${growthMiB.toFixed(1)} MiB)`);
    expect(growthMiB).toBeLessThan(64);
  }, 120_000);
});
