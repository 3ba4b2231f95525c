import { describe, expect, it } from "bun:test";
import { z } from "zod";
import { runAgent, type RunLimits } from "../../src/agent/index.ts";
import type { Message } from "../../src/model/messages.ts";
import { priceFor } from "../../src/model/pricing.ts";
import { defineTool } from "../../src/tools/define-tool.ts";
import { createSemaphore } from "../../src/util/semaphore.ts";
import type { Tool } from "../../src/tools/tool.ts";
import { call, latch, scriptedModel } from "../fakes/scripted-model.ts";

const limits: RunLimits = { maxSteps: 20, toolTimeoutMs: 5_000, toolOutputLimit: 64 * 1024 };
const question: Message[] = [{ role: "user", content: "go" }];

/**
 * Caps a tool's calls across every run, as declared tools do with `max_concurrent`. `onQueued`
 * hears of each call before it waits for a slot; `slots` lets a test take a place in the line.
 */
function limitConcurrency(tool: Tool, max: number, onQueued: (callId: string) => void = () => {}) {
  const slots = createSemaphore(max);
  const limited: Tool = {
    ...tool,
    execute: (args, context) => {
      onQueued(context.callId);
      return slots.run(() => tool.execute(args, context), context.signal);
    },
  };
  return { tool: limited, slots };
}

interface Stats {
  running: number;
  peak: number;
  order: string[];
}

/**
 * A tool that records how many of its calls overlap, and the order they start in. Each call stays
 * in flight until `hold(stats)` settles, so a test decides when calls end instead of timing them.
 */
function tracked(name: string, hold: (stats: Stats) => Promise<unknown> = async () => {}, options: { parallel?: boolean } = {}) {
  const stats: Stats = { running: 0, peak: 0, order: [] };
  const base = defineTool({
    name,
    description: "waits",
    input: z.object({ tag: z.string() }),
    run: async ({ tag }) => {
      stats.running++;
      stats.peak = Math.max(stats.peak, stats.running);
      stats.order.push(tag);
      await hold(stats);
      stats.running--;
      return tag;
    },
  });
  const tool: Tool = options.parallel === false ? { ...base, parallel: false } : base;
  return { tool, stats };
}

/** A hold that keeps calls in flight until `count` of them run at once; from then on calls pass. */
function untilRunning(count: number): (stats: Stats) => Promise<void> {
  const all = latch();
  return (stats) => {
    if (stats.running >= count) all.open();
    return all.promise;
  };
}

describe("tool concurrency classes", () => {
  it("runs parallel = false tools one at a time, in the model's order, beside the parallel ones", async () => {
    const serialDone = latch();
    const serial = tracked("write_file", async (stats) => {
      if (stats.order.length === 3) serialDone.open();
    }, { parallel: false });
    // The parallel pair finishes only after the whole serial chain: had the chain waited for the
    // pair, neither would end (and the pair's calls would time out instead of answering).
    const parallel = tracked("read_file", () => serialDone.promise);
    const calls = [
      call("w1", "write_file", { tag: "w1" }),
      call("r1", "read_file", { tag: "r1" }),
      call("w2", "write_file", { tag: "w2" }),
      call("r2", "read_file", { tag: "r2" }),
      call("w3", "write_file", { tag: "w3" }),
    ];
    const model = scriptedModel([{ toolCalls: calls }, { text: "done" }]);
    const result = await runAgent({ model, tools: [serial.tool, parallel.tool], messages: question, limits });
    expect(result.steps[0]!.toolCalls.map((c) => c.output)).toEqual(["w1", "r1", "w2", "r2", "w3"]);
    expect(serial.stats.peak).toBe(1);
    expect(serial.stats.order).toEqual(["w1", "w2", "w3"]);
    expect(parallel.stats.peak).toBe(2);
  });

  it("holds tools.max_parallel within a step", async () => {
    // Calls stay in flight until three run at once: more would raise the peak, fewer never end.
    const { tool, stats } = tracked("fetch", untilRunning(3));
    const calls = Array.from({ length: 10 }, (_, i) => call(`c${i}`, "fetch", { tag: `c${i}` }));
    const model = scriptedModel([{ toolCalls: calls }, { text: "done" }]);
    await runAgent({ model, tools: [tool], messages: question, limits: { ...limits, maxParallelTools: 3 } });
    expect(stats.peak).toBe(3);
    expect(stats.order).toHaveLength(10);
  });

  it("holds a tool's max_concurrent across 50 concurrent runs", async () => {
    const { tool, stats } = tracked("sidecar", untilRunning(4));
    const { tool: limited } = limitConcurrency(tool, 4);
    const runs = Array.from({ length: 50 }, (_, i) =>
      runAgent({
        model: scriptedModel([{ toolCalls: [call(`a${i}`, "sidecar", { tag: `a${i}` }), call(`b${i}`, "sidecar", { tag: `b${i}` })] }, { text: "ok" }]),
        tools: [limited],
        messages: question,
        limits,
      }),
    );
    const results = await Promise.all(runs);
    expect(results.every((r) => r.output === "ok")).toBe(true);
    expect(stats.peak).toBe(4);
    expect(stats.order).toHaveLength(100);
  });

  it("a call waiting for a max_concurrent slot leaves the line when its run is cancelled", async () => {
    const releaseA = latch();
    const { tool, stats } = tracked("sidecar", () => releaseA.promise);
    const queued = latch();
    const { tool: limited, slots } = limitConcurrency(tool, 1, (callId) => {
      if (callId === "b") queued.open();
    });
    const first = runAgent({
      model: scriptedModel([{ toolCalls: [call("a", "sidecar", { tag: "a" })] }, { text: "ok" }]),
      tools: [limited],
      messages: question,
      limits,
    });
    const controller = new AbortController();
    const second = runAgent({
      model: scriptedModel([{ toolCalls: [call("b", "sidecar", { tag: "b" })] }, { text: "ok" }]),
      tools: [limited],
      messages: question,
      limits,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    // b waits in line behind a, which holds the only slot.
    await queued.promise;
    expect(stats.order).toEqual(["a"]);
    controller.abort();
    await second;
    releaseA.open();
    await first;
    // Queue up behind whoever is still in line: had b stayed in it, it would run before this.
    await slots.run(async () => {});
    expect(stats.order).toEqual(["a"]);
  });
});

describe("budgets", () => {
  const loop = () => ({ toolCalls: [call(`c${Math.random()}`, "echo", { tag: "x" })], usage: { inputTokens: 400, outputTokens: 100 } });
  const echo = tracked("echo").tool;

  it("a token budget stops a looping model at the step that crosses it", async () => {
    const model = scriptedModel(Array.from({ length: 10 }, () => loop));
    const result = await runAgent({ model, tools: [echo], messages: question, limits: { ...limits, maxTokens: 1_200 } });
    // 500 tokens a step: 500, 1000, 1500 > 1200 → stops at step 3 without running its tools.
    expect(result.finishReason).toBe("budget");
    expect(result.budget).toBe("tokens");
    expect(result.steps).toHaveLength(3);
    expect(model.requests).toHaveLength(3);
    expect(result.steps[2]!.toolCalls[0]!.output).toBe("error: not run: the run's token budget was reached");
    expect(result.usage.inputTokens + result.usage.outputTokens).toBe(1_500);
    // Every tool call still has a result, so the history can be continued.
    expect(result.messages.at(-1)!.role).toBe("tool");
  });

  it("a cost budget stops the run using the pricing table, and the result carries the cost", async () => {
    const model = scriptedModel(Array.from({ length: 10 }, () => loop));
    // scripted model answers as "scripted": $10 / M input, $30 / M output → $0.007 a step.
    const price = priceFor({ scripted: { input: 10, output: 30 } });
    const result = await runAgent({ model, tools: [echo], messages: question, limits: { ...limits, maxCostUsd: 0.02 }, price: price! });
    expect(result.finishReason).toBe("budget");
    expect(result.budget).toBe("cost");
    expect(result.steps).toHaveLength(3);
    expect(result.costUsd).toBeCloseTo(0.021, 10);
  });

  it("a final answer that crosses the budget is still the answer", async () => {
    const model = scriptedModel([{ text: "short answer", usage: { inputTokens: 5_000 } }]);
    const result = await runAgent({ model, tools: [], messages: question, limits: { ...limits, maxTokens: 100 } });
    expect(result.finishReason).toBe("stop");
    expect(result.output).toBe("short answer");
  });
});

describe("priceFor", () => {
  it("prices cached input at its own rate and matches dated model names", () => {
    const price = priceFor({ "gpt-4.1-mini": { input: 0.4, output: 1.6, cached_input: 0.1 } })!;
    const usage = { inputTokens: 1_000_000, outputTokens: 500_000, cachedInputTokens: 400_000, reasoningTokens: 0 };
    expect(price("gpt-4.1-mini-2025-04-14", usage)).toBeCloseTo(0.6 * 0.4 + 0.4 * 0.1 + 0.5 * 1.6, 10);
    expect(price("other-model", usage)).toBeUndefined();
  });
});
