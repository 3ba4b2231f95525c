/**
 * Spans are skiff's own records until their operation ends: nothing reaches the processors
 * before, sampling is decided once per run, and a run's end closes what it left open.
 */
import { describe, expect, it } from "bun:test";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { type ReadableSpan, SamplingDecision, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
import { z } from "zod";
import { RunCancelledError, runAgent } from "../../src/agent/index.ts";
import type { Model } from "../../src/model/model.ts";
import { calcTool } from "../../src/tools/builtin/calc.ts";
import { defineTool } from "../../src/tools/define-tool.ts";
import { hangingTool } from "../fakes/hanging-tool.ts";
import { call, scriptedModel } from "../fakes/scripted-model.ts";
import { byName, demoRun, limits, ms, only, setup, shutDownAfterEach } from "./otel-kit.ts";

shutDownAfterEach();

interface View {
  readonly traceparent: string | undefined;
  readonly handed: number;
  readonly exported: number;
}

/** A `time` tool that records, while it runs, its traceparent and how many spans were handed over so far. */
function probeTool(seen: View[], state: () => Omit<View, "traceparent">) {
  return defineTool({
    name: "time",
    description: "Records what it sees",
    input: z.object({ zone: z.string() }),
    run: async ({ zone }, context) => {
      seen.push({ traceparent: context.traceparent, ...state() });
      await Bun.sleep(5);
      return { zone };
    },
  });
}

describe("recorded spans: handed to processors only when their operation ends", () => {
  it("hands over nothing but the ended first chat while tools run, yet names each tool's span in its traceparent", async () => {
    const { memory, tracer, counts } = setup();
    const seen: View[] = [];
    const result = await demoRun(tracer, [probeTool(seen, () => ({ handed: counts.handed, exported: memory.getFinishedSpans().length }))]);
    expect(seen).toHaveLength(2);
    for (const view of seen) expect(view).toMatchObject({ handed: 1, exported: 1 });
    expect(counts.handed).toBe(5);

    const spans = memory.getFinishedSpans();
    const agent = only(byName(spans, "invoke_agent skiff"));
    expect(result.traceId).toBe(agent.spanContext().traceId);
    const toolSpans = byName(spans, "execute_tool time");
    expect(toolSpans).toHaveLength(2);
    expect(seen.map((view) => view.traceparent).sort()).toEqual(toolSpans.map((span) => `00-${result.traceId}-${span.spanContext().spanId}-01`).sort());
    for (const span of toolSpans) {
      expect(span.parentSpanContext?.spanId).toBe(agent.spanContext().spanId);
      // Times are those of the operation, not of the hand-over.
      expect(ms(span.endTime) - ms(span.startTime)).toBeGreaterThanOrEqual(4);
      expect(span.ended).toBe(true);
      expect(ms(span.duration)).toBeCloseTo(ms(span.endTime) - ms(span.startTime), 5);
    }
    // Children are handed over as they end; the agent span comes last.
    expect(spans.at(-1)).toBe(agent);
  });

  it("decides sampling once, at the run's start: a dropped run hands nothing over and its tools get unsampled traceparents", async () => {
    const { memory, tracer, counts } = setup({ sampler: "parentbased_always_off" });
    const seen: View[] = [];
    const result = await demoRun(tracer, [probeTool(seen, () => ({ handed: counts.handed, exported: 0 })), calcTool]);
    expect(counts.handed).toBe(0);
    expect(memory.getFinishedSpans()).toHaveLength(0);
    expect(result.traceId).toMatch(/^[0-9a-f]{32}$/);
    const traceparents = seen.map((view) => view.traceparent);
    for (const traceparent of traceparents) expect(traceparent).toMatch(new RegExp(`^00-${result.traceId}-(?!0{16})[0-9a-f]{16}-00$`));
    expect(new Set(traceparents).size).toBe(2);
  });

  it("keeps every run whole under a ratio sampler, exporting exactly the runs the sampler keeps", async () => {
    const { memory, tracer } = setup({ sampler: "traceidratio", samplerRatio: 0.5 });
    const ratio = new TraceIdRatioBasedSampler(0.5);
    const kept = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const result = await demoRun(tracer);
      if (ratio.shouldSample(ROOT_CONTEXT, result.traceId!).decision === SamplingDecision.RECORD_AND_SAMPLED) kept.add(result.traceId!);
    }
    expect(kept.size).toBeGreaterThan(0);
    expect(kept.size).toBeLessThan(40);
    const byTrace = new Map<string, ReadableSpan[]>();
    for (const span of memory.getFinishedSpans()) byTrace.set(span.spanContext().traceId, [...(byTrace.get(span.spanContext().traceId) ?? []), span]);
    expect(new Set(byTrace.keys())).toEqual(kept);
    for (const spans of byTrace.values()) {
      expect(spans).toHaveLength(6);
      const agent = only(byName(spans, "invoke_agent skiff"));
      for (const span of spans) if (span !== agent) expect(span.parentSpanContext?.spanId).toBe(agent.spanContext().spanId);
    }
  });

  it("lets a parent-based ratio sampler follow a sampled caller and sample its own roots by trace id", async () => {
    const { memory, tracer } = setup({ sampler: "parentbased_traceidratio", samplerRatio: 0 });
    const sampledCaller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    await demoRun(tracer, undefined, { traceparent: sampledCaller });
    await demoRun(tracer);
    const traces = new Set(memory.getFinishedSpans().map((span) => span.spanContext().traceId));
    expect([...traces]).toEqual(["4bf92f3577b34da6a3ce929d0e0e4736"]);
  });

  it("records a chat span's events with the times they happened", async () => {
    const model: Model = {
      name: "m",
      provider: "openai",
      async complete(request) {
        const span = request.spans!.startChat({ model: "m", provider: "openai", stream: false, attempt: 1, messages: request.messages, tools: request.tools });
        await Bun.sleep(2);
        span.event("retry", { attempt: 1, wait_ms: 2, reason: "model_http_429" });
        await Bun.sleep(2);
        span.event("no_attributes");
        const response = {
          message: { role: "assistant" as const, content: "hi" },
          usage: { inputTokens: 3, outputTokens: 1, cachedInputTokens: 0, reasoningTokens: 0 },
          finishReason: "stop" as const,
          id: undefined,
          model: "m",
          provider: "openai",
        };
        span.end(response);
        span.event("after_end");
        return response;
      },
    };
    const { memory, tracer } = setup();
    await runAgent({ model, tools: [], messages: [{ role: "user", content: "hi" }], limits, tracer });
    const chat = only(byName(memory.getFinishedSpans(), "chat m"));
    expect(chat.events.map((event) => [event.name, event.attributes])).toEqual([
      ["retry", { attempt: 1, wait_ms: 2, reason: "model_http_429" }],
      ["no_attributes", {}],
    ]);
    const [retry, bare] = chat.events;
    expect(ms(retry!.time)).toBeGreaterThan(ms(chat.startTime));
    expect(ms(bare!.time)).toBeGreaterThan(ms(retry!.time));
    expect(ms(bare!.time)).toBeLessThanOrEqual(ms(chat.endTime));
    expect(chat.attributes["gen_ai.response.id"]).toBeUndefined();
  });

  it("closes a tool still open when the run is cancelled, in the export and in the --trace tree", async () => {
    const { tool: hang, started } = hangingTool();
    const controller = new AbortController();
    const model = scriptedModel([{ toolCalls: [call("c1", "hang", {}), call("c2", "calc", { expression: "2+2" })] }]);
    let tree = "";
    const { memory, tracer, counts, handed } = setup({}, (text) => (tree += text));
    const run = runAgent({ model, tools: [hang, calcTool], messages: [{ role: "user", content: "x" }], limits, tracer, signal: controller.signal });
    // Cancelled once `hang` runs and `calc` has ended (its span handed over as it ended).
    await Promise.all([started, handed("execute_tool calc")]);
    controller.abort(new Error("stop"));
    await expect(run).rejects.toBeInstanceOf(RunCancelledError);
    const spans = memory.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(["chat scripted", "execute_tool calc", "execute_tool hang", "invoke_agent skiff"]);
    expect(counts.handed).toBe(4);
    const hangSpan = only(byName(spans, "execute_tool hang"));
    expect(hangSpan.status.code).toBe(2);
    expect(ms(hangSpan.endTime)).toBeLessThanOrEqual(ms(only(byName(spans, "invoke_agent skiff")).endTime));
    const lines = tree.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^invoke_agent skiff .*ERROR run_cancelled/);
    expect(lines.some((line) => /execute_tool hang .*ERROR/.test(line))).toBe(true);
    expect(lines.some((line) => /execute_tool calc .* c2$/.test(line))).toBe(true);
  });
});
