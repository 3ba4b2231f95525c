import { describe, expect, it } from "bun:test";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { RunCancelledError, RunModelError, runAgent } from "../../src/agent/index.ts";
import { ModelError } from "../../src/errors.ts";
import type { Model } from "../../src/model/model.ts";
import { calcTool } from "../../src/tools/builtin/calc.ts";
import { timeTool } from "../../src/tools/builtin/time.ts";
import { defineTool } from "../../src/tools/define-tool.ts";
import { ToolFailure } from "../../src/tools/tool.ts";
import { z } from "zod";
import { hangingTool } from "../fakes/hanging-tool.ts";
import { call, scriptedModel } from "../fakes/scripted-model.ts";
import { byName, demoRun, json, limits, ms, only, question, setup, shutDownAfterEach, system } from "./otel-kit.ts";

/** Every content attribute; none may appear unless capture is on. */
const contentKeys = [
  "gen_ai.input.messages",
  "gen_ai.output.messages",
  "gen_ai.system_instructions",
  "gen_ai.tool.definitions",
  "gen_ai.tool.call.arguments",
  "gen_ai.tool.call.result",
];
/** Names the conventions deprecated or never had; skiff must not emit them. */
const deprecatedKeys = [
  "gen_ai.system",
  "gen_ai.usage.prompt_tokens",
  "gen_ai.usage.completion_tokens",
  "gen_ai.prompt",
  "gen_ai.completion",
  "gen_ai.agent.id",
];

shutDownAfterEach();

describe("createOtelTracer (demo model, in-memory exporter)", () => {
  it("emits invoke_agent with chat and parallel execute_tool spans as its children", async () => {
    const { memory, tracer } = setup();
    const result = await demoRun(tracer);
    const spans = memory.getFinishedSpans();

    expect(spans.map((span) => span.name).sort()).toEqual([
      "chat demo",
      "chat demo",
      "execute_tool calc",
      "execute_tool time",
      "execute_tool time",
      "invoke_agent skiff",
    ]);
    const agent = only(byName(spans, "invoke_agent skiff"));
    const [chat1, chat2] = byName(spans, "chat demo");
    const tools = [...byName(spans, "execute_tool time"), ...byName(spans, "execute_tool calc")];

    // One trace; the agent span is the root and every other span is its direct child.
    expect(result.traceId).toBe(agent.spanContext().traceId);
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(1);
    expect(agent.parentSpanContext).toBeUndefined();
    for (const span of [chat1!, chat2!, ...tools]) expect(span.parentSpanContext?.spanId).toBe(agent.spanContext().spanId);

    expect(agent.kind).toBe(SpanKind.INTERNAL);
    expect(chat1!.kind).toBe(SpanKind.CLIENT);
    for (const tool of tools) expect(tool.kind).toBe(SpanKind.INTERNAL);
    // Success leaves the status UNSET (never OK) and sets no error.type.
    for (const span of spans) {
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.attributes["error.type"]).toBeUndefined();
    }

    expect(agent.attributes).toEqual({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "skiff",
      "gen_ai.request.model": "demo",
      "gen_ai.usage.input_tokens": result.usage.inputTokens,
      "gen_ai.usage.output_tokens": result.usage.outputTokens,
      "gen_ai.response.finish_reasons": ["stop"],
    });
    expect(chat1!.attributes).toEqual({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "skiff.demo",
      "gen_ai.request.model": "demo",
      "gen_ai.response.id": "demo-1",
      "gen_ai.response.model": "demo",
      "gen_ai.response.finish_reasons": ["tool_calls"],
      "gen_ai.usage.input_tokens": result.steps[0]!.usage.inputTokens,
      "gen_ai.usage.output_tokens": result.steps[0]!.usage.outputTokens,
    });
    expect(chat2!.attributes["gen_ai.response.finish_reasons"]).toEqual(["stop"]);
    expect(chat2!.attributes["gen_ai.response.id"]).toBe("demo-2");

    const calls = result.steps[0]!.toolCalls;
    expect(tools.map((tool) => tool.attributes["gen_ai.tool.call.id"]).sort()).toEqual(calls.map((c) => c.id).sort());
    const time = byName(spans, "execute_tool time")[0]!;
    expect(time.attributes).toEqual({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "time",
      "gen_ai.tool.call.id": time.attributes["gen_ai.tool.call.id"]!,
      "gen_ai.tool.type": "function",
      "gen_ai.tool.description": timeTool.description,
      "gen_ai.agent.name": "skiff",
    });

    // The step's tools ran at once: each started before any of them ended, between the two chats.
    const latestStart = Math.max(...tools.map((tool) => ms(tool.startTime)));
    const earliestEnd = Math.min(...tools.map((tool) => ms(tool.endTime)));
    expect(latestStart).toBeLessThanOrEqual(earliestEnd);
    expect(Math.min(...tools.map((tool) => ms(tool.startTime)))).toBeGreaterThanOrEqual(ms(chat1!.endTime));
    expect(Math.max(...tools.map((tool) => ms(tool.endTime)))).toBeLessThanOrEqual(ms(chat2!.startTime));
    expect(ms(agent.startTime)).toBeLessThanOrEqual(ms(chat1!.startTime));
    expect(ms(agent.endTime)).toBeGreaterThanOrEqual(ms(chat2!.endTime));

    for (const span of spans) {
      for (const key of [...deprecatedKeys, ...contentKeys]) expect(span.attributes[key]).toBeUndefined();
    }
    expect(agent.attributes["gen_ai.provider.name"]).toBeUndefined();
    expect(agent.resource.attributes["service.name"]).toBe("skiff-test");
    expect(agent.instrumentationScope.name).toBe("skiff");
  });

  it("puts the run's cost on the agent span when the models are priced", async () => {
    const { memory, tracer } = setup();
    const model = scriptedModel([{ text: "done", usage: { inputTokens: 1_000_000, outputTokens: 0 } }]);
    await runAgent({ model, tools: [], messages: [{ role: "user", content: "hi" }], limits, tracer, price: () => 0.4 });
    const agent = only(memory.getFinishedSpans().filter((span) => span.name.startsWith("invoke_agent")));
    // The name Langfuse reads; not the unmerged draft's `gen_ai.usage.cost.amount`, which Langfuse would file as a token count.
    expect(agent.attributes["gen_ai.usage.cost"]).toBe(0.4);
    expect(agent.attributes["gen_ai.usage.cost.amount"]).toBeUndefined();
    const unpriced = setup();
    await runAgent({ model: scriptedModel([{ text: "done" }]), tools: [], messages: [{ role: "user", content: "hi" }], limits, tracer: unpriced.tracer });
    const plain = only(unpriced.memory.getFinishedSpans().filter((span) => span.name.startsWith("invoke_agent")));
    expect(plain.attributes["gen_ai.usage.cost"]).toBeUndefined();
  });

  it("marks a failing tool's span ERROR with error.type and leaves the run's spans UNSET", async () => {
    const brokenTime = defineTool({
      name: "time",
      description: "A clock that is broken",
      input: z.object({ zone: z.string() }),
      run: async () => {
        throw new ToolFailure("the clock is broken");
      },
    });
    const { memory, tracer } = setup();
    const result = await demoRun(tracer, [brokenTime, calcTool]);
    expect(result.output).toContain("I could not work out the time");
    const spans = memory.getFinishedSpans();
    for (const span of byName(spans, "execute_tool time")) {
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.status.message).toContain("the clock is broken");
      expect(span.attributes["error.type"]).toBe("tool_error");
    }
    const calc = only(byName(spans, "execute_tool calc"));
    expect(calc.status.code).toBe(SpanStatusCode.UNSET);
    const agent = only(byName(spans, "invoke_agent skiff"));
    expect(agent.status.code).toBe(SpanStatusCode.UNSET);
    expect(agent.attributes["error.type"]).toBeUndefined();
  });

  it("gives an unknown tool's span error.type tool_not_found", async () => {
    const { memory, tracer } = setup();
    const model = scriptedModel([{ toolCalls: [call("c1", "nope", {})] }, { text: "sorry" }]);
    await runAgent({ model, tools: [calcTool], messages: [{ role: "user", content: "x" }], limits, tracer });
    const span = only(byName(memory.getFinishedSpans(), "execute_tool nope"));
    expect(span.attributes["error.type"]).toBe("tool_not_found");
    expect(span.attributes["gen_ai.tool.description"]).toBeUndefined();
  });

  it("marks the chat and agent spans ERROR when the model fails", async () => {
    const failing: Model = {
      name: "gpt-test",
      provider: "openai",
      async complete(request) {
        const span = request.spans?.startChat({
          model: "gpt-test",
          provider: "openai",
          serverAddress: "127.0.0.1",
          serverPort: 8080,
          stream: false,
          attempt: 1,
          messages: request.messages,
          tools: request.tools,
        });
        const error = new ModelError("chat request failed: HTTP 503", { status: 503, retryable: true, code: "model_http_503" });
        span?.fail(error);
        throw error;
      },
    };
    const { memory, tracer } = setup();
    const run = runAgent({ model: failing, tools: [], messages: [{ role: "user", content: "hi" }], limits, tracer });
    await expect(run).rejects.toBeInstanceOf(RunModelError);
    const spans = memory.getFinishedSpans();
    const chat = only(byName(spans, "chat gpt-test"));
    expect(chat.status).toEqual({ code: SpanStatusCode.ERROR, message: "chat request failed: HTTP 503" });
    expect(chat.attributes["error.type"]).toBe("503");
    expect(chat.attributes["server.address"]).toBe("127.0.0.1");
    expect(chat.attributes["server.port"]).toBe(8080);
    const agent = only(byName(spans, "invoke_agent skiff"));
    expect(agent.status.code).toBe(SpanStatusCode.ERROR);
    expect(agent.attributes["error.type"]).toBe("model_http_503");
  });

  it("closes a tool span still open when the run is cancelled, with an error", async () => {
    const { tool: hang, started } = hangingTool();
    const controller = new AbortController();
    const model = scriptedModel([{ toolCalls: [call("c1", "hang", {})] }]);
    const { memory, tracer } = setup();
    const run = runAgent({ model, tools: [hang], messages: [{ role: "user", content: "x" }], limits, tracer, signal: controller.signal });
    await started;
    controller.abort(new Error("stop"));
    await expect(run).rejects.toBeInstanceOf(RunCancelledError);
    const spans = memory.getFinishedSpans();
    const tool = only(byName(spans, "execute_tool hang"));
    expect(tool.status.code).toBe(SpanStatusCode.ERROR);
    expect(tool.attributes["error.type"]).toBe("run_cancelled");
    const agent = only(byName(spans, "invoke_agent skiff"));
    expect(agent.attributes["error.type"]).toBe("run_cancelled");
    expect(ms(tool.endTime)).toBeLessThanOrEqual(ms(agent.endTime));
  });

  it("records content only when capture is on, as JSON with matching tool call ids", async () => {
    const off = setup();
    await demoRun(off.tracer);
    for (const span of off.memory.getFinishedSpans()) for (const key of contentKeys) expect(span.attributes[key]).toBeUndefined();

    const { memory, tracer } = setup({ captureContent: true }, undefined, { systemPrompt: system });
    const result = await demoRun(tracer);
    const spans = memory.getFinishedSpans();
    const agent = only(byName(spans, "invoke_agent skiff"));
    const [chat1, chat2] = byName(spans, "chat demo");
    const tools = [...byName(spans, "execute_tool time"), ...byName(spans, "execute_tool calc")];

    expect(json(agent, "gen_ai.system_instructions")).toEqual([{ type: "text", content: system }]);
    expect(json(agent, "gen_ai.input.messages")).toEqual([{ role: "user", parts: [{ type: "text", content: question }] }]);
    // No finish_reason inside the messages (deprecated): it is gen_ai.response.finish_reasons.
    expect(json(agent, "gen_ai.output.messages")).toEqual([{ role: "assistant", parts: [{ type: "text", content: result.output }] }]);
    const definitions = json(agent, "gen_ai.tool.definitions") as { type: string; name: string; parameters: unknown }[];
    expect(definitions.map((d) => [d.type, d.name])).toEqual([
      ["function", "time"],
      ["function", "calc"],
    ]);
    expect(definitions[0]!.parameters).toEqual(timeTool.parameters);

    // The first chat answers with tool_call parts; their ids are the tool spans' call ids.
    const output1 = json(chat1!, "gen_ai.output.messages") as { role: string; parts: { type: string; id: string; name: string; arguments: unknown }[]; finish_reason?: string }[];
    expect(output1).toHaveLength(1);
    expect(output1[0]!.finish_reason).toBeUndefined();
    expect(chat1!.attributes["gen_ai.response.finish_reasons"]).toEqual(["tool_calls"]);
    const callParts = output1[0]!.parts;
    expect(callParts.every((part) => part.type === "tool_call")).toBe(true);
    expect(callParts.map((part) => part.id).sort()).toEqual(tools.map((tool) => String(tool.attributes["gen_ai.tool.call.id"])).sort());
    expect(callParts.find((part) => part.name === "calc")?.arguments).toEqual({ expression: "17*23" });

    for (const tool of tools) {
      const args = json(tool, "gen_ai.tool.call.arguments");
      const own = callParts.find((part) => part.id === tool.attributes["gen_ai.tool.call.id"]);
      expect(args).toEqual(own!.arguments);
    }
    expect(json(only(byName(spans, "execute_tool calc")), "gen_ai.tool.call.result")).toEqual({ expression: "17*23", result: 391 });

    // The second chat's input carries the round trip: tool_call parts, then tool_call_response parts with the same ids.
    const input2 = json(chat2!, "gen_ai.input.messages") as { role: string; parts: { type: string; id?: string; response?: unknown }[] }[];
    expect(input2.map((message) => message.role)).toEqual(["user", "assistant", "tool", "tool", "tool"]);
    const responses = input2.filter((message) => message.role === "tool").map((message) => message.parts[0]!);
    expect(responses.every((part) => part.type === "tool_call_response" && typeof part.response === "string")).toBe(true);
    expect(responses.map((part) => part.id).sort()).toEqual(callParts.map((part) => part.id).sort());
    expect(json(chat2!, "gen_ai.system_instructions")).toEqual([{ type: "text", content: system }]);
    expect(json(chat2!, "gen_ai.output.messages")).toEqual([{ role: "assistant", parts: [{ type: "text", content: result.output }] }]);
  });

  it("records gen_ai.output.type when a request asks for structured output, and nothing otherwise", async () => {
    const { memory, tracer } = setup();
    const answers = [true, false];
    const model: Model = {
      name: "m",
      provider: "openai",
      async complete(request) {
        const structured = answers.shift()!;
        const info = { model: "m", provider: "openai", stream: false, attempt: 1, messages: request.messages, tools: request.tools };
        const response = { message: { role: "assistant" as const, content: "{}" }, usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, reasoningTokens: 0 }, finishReason: "stop" as const, id: undefined, model: "m", provider: "openai" };
        request.spans?.startChat(structured ? { ...info, outputType: "json" } : info).end(response);
        return response;
      },
    };
    for (let run = 0; run < 2; run++) await runAgent({ model, tools: [], messages: [{ role: "user", content: "hi" }], limits, tracer });
    // In the order they ended (the runs were one after the other), not by start: each run anchors its clock anew.
    const chats = memory.getFinishedSpans().filter((span) => span.name === "chat m");
    expect(chats.map((chat) => chat.attributes["gen_ai.output.type"])).toEqual(["json", undefined]);
  });

  it("records no result for a failed tool call even with capture on", async () => {
    const { memory, tracer } = setup({ captureContent: true });
    const model = scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "1/(" })] }, { text: "bad" }]);
    await runAgent({ model, tools: [calcTool], messages: [{ role: "user", content: "x" }], limits, tracer });
    const span = only(byName(memory.getFinishedSpans(), "execute_tool calc"));
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(json(span, "gen_ai.tool.call.arguments")).toEqual({ expression: "1/(" });
    expect(span.attributes["gen_ai.tool.call.result"]).toBeUndefined();
  });

  it("joins the caller's trace from a traceparent and hands tools their own traceparent", async () => {
    const seen: (string | undefined)[] = [];
    const probe = defineTool({
      name: "time",
      description: "Records the traceparent it is given",
      input: z.object({ zone: z.string() }),
      run: async ({ zone }, context) => {
        seen.push(context.traceparent);
        return { zone };
      },
    });
    const { memory, tracer } = setup();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    await demoRun(tracer, [probe], { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    const spans = memory.getFinishedSpans();
    const agent = only(byName(spans, "invoke_agent skiff"));
    expect(agent.spanContext().traceId).toBe(traceId);
    expect(agent.parentSpanContext).toMatchObject({ traceId, spanId: "00f067aa0ba902b7", isRemote: true });
    const toolSpans = byName(spans, "execute_tool time");
    expect(toolSpans).toHaveLength(2);
    expect(seen.sort()).toEqual(toolSpans.map((span) => `00-${traceId}-${span.spanContext().spanId}-01`).sort());
  });

  it("follows an unsampled caller: nothing exported, yet --trace still prints the run", async () => {
    let tree = "";
    const { memory, tracer } = setup({}, (text) => (tree += text));
    await demoRun(tracer, [timeTool, calcTool], { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00" });
    expect(memory.getFinishedSpans()).toHaveLength(0);
    expect(tree).toContain("invoke_agent skiff");
    expect(tree.match(/execute_tool time/g)).toHaveLength(2);
  });

  it("exports nothing with the always_off sampler", async () => {
    const { memory, tracer } = setup({ sampler: "always_off" });
    const result = await demoRun(tracer);
    expect(memory.getFinishedSpans()).toHaveLength(0);
    expect(result.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("--trace tree from OTel spans", () => {
  it("draws the run with timeline bars, tokens, call ids and tool errors", async () => {
    const brokenCalc = defineTool({
      name: "calc",
      description: "Broken",
      input: z.object({ expression: z.string() }),
      run: async () => {
        throw new ToolFailure("no maths today");
      },
    });
    let tree = "";
    const { tracer } = setup({}, (text) => (tree += text));
    await demoRun(tracer, [timeTool, brokenCalc]);
    const lines = tree.trimEnd().split("\n");
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^invoke_agent skiff +\+0\.0ms +[\d.]+ms +█+ +in \d+ · out \d+ tok · stop$/);
    expect(lines[1]).toMatch(/^├─ chat demo .* in \d+ · out \d+ tok · tool_calls$/);
    expect(lines.filter((line) => /^├─ execute_tool time .* call_\d_time$/.test(line))).toHaveLength(2);
    expect(lines.some((line) => /^├─ execute_tool calc .*ERROR tool_error: no maths today$/.test(line))).toBe(true);
    expect(lines[5]).toMatch(/^└─ chat demo .* stop$/);
    for (const line of lines) expect(line).toMatch(/[·█]{24}/);
  });
});
