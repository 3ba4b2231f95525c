import { describe, expect, it } from "bun:test";
import { z } from "zod";
import {
  type AgentEvent,
  CancelReason,
  RunCancelledError,
  RunModelError,
  RunTimeoutError,
  runAgent,
  type RunOptions,
} from "../../src/agent/index.ts";
import { ModelError } from "../../src/errors.ts";
import type { Message, ToolMessage } from "../../src/model/messages.ts";
import { defineTool } from "../../src/tools/define-tool.ts";
import { ToolFailure } from "../../src/tools/tool.ts";
import { calcTool } from "../../src/tools/builtin/calc.ts";
import { call, latch, scriptedModel } from "../fakes/scripted-model.ts";

const limits = { maxSteps: 5, toolTimeoutMs: 5_000, toolOutputLimit: 64 * 1024 };
const question: Message[] = [{ role: "user", content: "go" }];

/**
 * A tool that waits `ms` (abortably) and records when it started, ended or was aborted. `started`
 * hears of each start, after the tool listens for abort.
 */
function sleeper(name: string, log: string[] = [], started: () => void = () => {}) {
  return defineTool({
    name,
    description: `waits the given ms`,
    input: z.object({ ms: z.number().int().min(0) }),
    run: ({ ms }, { signal }) =>
      new Promise((resolve, reject) => {
        log.push(`${name}:start`);
        const timer = setTimeout(() => {
          log.push(`${name}:end`);
          resolve({ slept: ms });
        }, ms);
        signal.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            log.push(`${name}:aborted`);
            reject(signal.reason);
          },
          { once: true },
        );
        started();
      }),
  });
}

/** A tool that answers `tag` once `gate` opens, and records when it started and ended. */
function gated(name: string, gate: Promise<void>, log: string[]) {
  return defineTool({
    name,
    description: "waits for its gate",
    input: z.object({}),
    run: async () => {
      log.push(`${name}:start`);
      await gate;
      log.push(`${name}:end`);
      return name;
    },
  });
}

function toolMessages(messages: readonly Message[]): ToolMessage[] {
  return messages.filter((m): m is ToolMessage => m.role === "tool");
}

function run(options: Partial<RunOptions> & Pick<RunOptions, "model">) {
  return runAgent({ tools: [], messages: question, limits, ...options });
}

describe("runAgent", () => {
  it("answers directly when the model calls no tools", async () => {
    const model = scriptedModel([{ text: "hello" }]);
    const result = await run({ model });
    expect(result.output).toBe("hello");
    expect(result.finishReason).toBe("stop");
    expect(result.steps).toHaveLength(1);
    expect(result.messages.at(-1)).toEqual({ role: "assistant", content: "hello" });
  });

  it("runs all tool calls of a step concurrently: each waits for the other to start", async () => {
    const log: string[] = [];
    const bothStarted = latch();
    const startedOne = () => {
      if (log.filter((entry) => entry.endsWith(":start")).length === 2) bothStarted.open();
    };
    const tools = ["a", "b"].map((name) =>
      defineTool({
        name,
        description: "waits until both calls run",
        input: z.object({}),
        run: async () => {
          log.push(`${name}:start`);
          startedOne();
          // Run one after the other, the first would wait here until its timeout.
          await bothStarted.promise;
          log.push(`${name}:end`);
          return name;
        },
      }),
    );
    const model = scriptedModel([{ toolCalls: [call("a", "a", {}), call("b", "b", {})] }, { text: "done" }]);
    const result = await run({ model, tools });
    expect(result.output).toBe("done");
    expect(log).toEqual(["a:start", "b:start", "a:end", "b:end"]);
    expect(result.steps[0]!.toolCalls.map((c) => c.output)).toEqual(["a", "b"]);
    const [first, second] = result.steps[0]!.toolCalls;
    // The records say so too: the second started before the first ended.
    expect(second!.startMs).toBeLessThanOrEqual(first!.startMs + first!.durationMs);
  });

  it("returns tool results in the model's order, whatever order they finish in", async () => {
    const log: string[] = [];
    const fastDone = latch();
    // "slow" finishes only after "fast" has: the reverse of the model's order.
    const fast = defineTool({
      name: "fast_tool",
      description: "answers at once",
      input: z.object({}),
      run: async () => {
        log.push("fast_tool:end");
        fastDone.open();
        return "fast";
      },
    });
    const model = scriptedModel([
      { toolCalls: [call("slow", "slow_tool", {}), call("fast", "fast_tool", {})] },
      { text: "ok" },
    ]);
    const result = await run({ model, tools: [gated("slow_tool", fastDone.promise, log), fast] });
    expect(log).toEqual(["slow_tool:start", "fast_tool:end", "slow_tool:end"]);
    expect(toolMessages(result.messages).map((m) => m.tool_call_id)).toEqual(["slow", "fast"]);
    // The second model call saw the assistant's calls followed by both results, in order.
    const sent = model.requests[1]!.messages;
    expect(sent.map((m) => m.role)).toEqual(["user", "assistant", "tool", "tool"]);
  });

  it("tells the model about every kind of tool fault and recovers", async () => {
    const thrower = defineTool({
      name: "thrower",
      description: "always fails",
      input: z.object({}),
      run: async () => {
        throw new ToolFailure("the upstream said no");
      },
    });
    const model = scriptedModel([
      {
        toolCalls: [
          call("json", "calc", "{not json"),
          call("schema", "calc", { expression: 42 }),
          call("unknown", "nope", {}),
          call("throws", "thrower", {}),
          call("slow", "slow_a", { ms: 5_000 }),
          call("good", "calc", { expression: "17*23" }),
        ],
      },
      { text: "recovered" },
    ]);
    const result = await run({
      model,
      tools: [calcTool, thrower, sleeper("slow_a")],
      limits: { ...limits, toolTimeoutMs: 200 },
    });
    expect(result.output).toBe("recovered");
    const byId = Object.fromEntries(toolMessages(result.messages).map((m) => [m.tool_call_id, m.content]));
    expect(byId["json"]).toStartWith('error: the arguments for tool "calc" are not valid JSON');
    expect(byId["schema"]).toStartWith('error: invalid arguments for tool "calc": expression:');
    expect(byId["unknown"]).toBe(
      'error: there is no tool named "nope". Available tools: calc, thrower, slow_a. Call one of those by its exact name.',
    );
    expect(byId["throws"]).toBe('error: tool "thrower" failed: the upstream said no');
    expect(byId["slow"]).toBe('error: tool "slow_a" did not finish within 200ms and was stopped.');
    expect(JSON.parse(byId["good"]!)).toEqual({ expression: "17*23", result: 391 });
    const calls = result.steps[0]!.toolCalls;
    expect(calls.filter((c) => !c.ok).map((c) => c.id)).toEqual(["json", "schema", "unknown", "throws", "slow"]);
  });

  it("cuts long tool output at the limit and says so", async () => {
    const big = defineTool({ name: "big", description: "lots", input: z.object({}), run: async () => "x".repeat(10_000) });
    const model = scriptedModel([{ toolCalls: [call("b", "big", {})] }, { text: "ok" }]);
    const result = await run({ model, tools: [big], limits: { ...limits, toolOutputLimit: 1000 } });
    const content = toolMessages(result.messages)[0]!.content;
    expect(content).toStartWith("x".repeat(1000));
    expect(content).toContain("[truncated: showed 1000 of 10000 bytes]");
  });

  it("stops at max_steps after running the last step's tools, keeping all messages and usage", async () => {
    const loop = () => ({ toolCalls: [call(`c${Math.random()}`, "calc", { expression: "1+1" })] });
    const model = scriptedModel([loop, loop, loop]);
    const result = await run({ model, tools: [calcTool], limits: { ...limits, maxSteps: 3 } });
    expect(result.finishReason).toBe("max_steps");
    expect(result.steps).toHaveLength(3);
    expect(model.requests).toHaveLength(3);
    expect(result.messages.at(-1)!.role).toBe("tool");
    expect(result.usage.inputTokens).toBe(30);
    expect(result.usage.outputTokens).toBe(15);
  });

  it("sums usage over all model calls", async () => {
    const model = scriptedModel([
      { toolCalls: [call("a", "calc", { expression: "1+2" })], usage: { inputTokens: 100, outputTokens: 7, cachedInputTokens: 40 } },
      { text: "3", usage: { inputTokens: 120, outputTokens: 3, reasoningTokens: 2 } },
    ]);
    const result = await run({ model, tools: [calcTool] });
    expect(result.usage).toEqual({ inputTokens: 220, outputTokens: 10, cachedInputTokens: 40, reasoningTokens: 2 });
  });

  it("cancellation mid-tool stops the tool and ends the run promptly with RunCancelledError", async () => {
    const log: string[] = [];
    const model = scriptedModel([{ toolCalls: [call("s", "slow_a", { ms: 10_000 })] }]);
    const controller = new AbortController();
    // Ctrl-C once the tool runs. The tool would take 10 s: the run ending inside the test's time
    // limit, with the tool logged as aborted, is what "promptly" means here.
    const cancel = () => controller.abort(new CancelReason("interrupted (Ctrl-C)"));
    const error = await run({ model, tools: [sleeper("slow_a", log, cancel)], signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunCancelledError);
    expect((error as RunCancelledError).message).toBe("The run was cancelled: interrupted (Ctrl-C).");
    expect(log).toEqual(["slow_a:start", "slow_a:aborted"]);
    expect((error as RunCancelledError).partial.messages.at(-1)!.role).toBe("assistant");
  });

  it("the run deadline aborts a hanging model with RunTimeoutError carrying the work so far", async () => {
    const model = scriptedModel([{ toolCalls: [call("a", "calc", { expression: "2*2" })] }, { hang: true }]);
    const error = await run({ model, tools: [calcTool], limits: { ...limits, timeoutMs: 300 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunTimeoutError);
    const partial = (error as RunTimeoutError).partial;
    // Step 1 done, step 2's model call cut off (no answer, no usage).
    expect(partial.steps.map((step) => step.finishReason)).toEqual(["tool_calls", "incomplete"]);
    expect(partial.finishReason).toBe("timeout");
    expect(toolMessages(partial.messages)[0]!.content).toContain('"result":4');
    expect((error as RunTimeoutError).message).toContain("300ms");
  });

  it("a run cut short mid-step still reports that step's model call and the tools that finished", async () => {
    const model = scriptedModel([
      { toolCalls: [call("fast", "calc", { expression: "1+1" }), call("stuck", "slow_b", { ms: 10_000 })], usage: { inputTokens: 42, outputTokens: 7 } },
    ]);
    const error = await run({ model, tools: [calcTool, sleeper("slow_b")], limits: { ...limits, timeoutMs: 300 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunTimeoutError);
    const partial = (error as RunTimeoutError).partial;
    expect(partial.steps).toHaveLength(1);
    expect(partial.usage.inputTokens).toBe(42);
    expect(partial.steps[0]!.toolCalls.map((c) => c.id)).toEqual(["fast"]);
  });

  it("a tool that ignores its signal cannot hold the run past the deadline", async () => {
    // The tool ends only when the test lets it, after the run has ended: a run that waited for
    // it would never end.
    const release = latch();
    const log: string[] = [];
    const model = scriptedModel([{ toolCalls: [call("s", "stubborn", {})] }]);
    const error = await run({ model, tools: [gated("stubborn", release.promise, log)], limits: { ...limits, timeoutMs: 200 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunTimeoutError);
    expect(log).toEqual(["stubborn:start"]);
    release.open();
  });

  it("a model failure ends the run with RunModelError keeping the provider's message", async () => {
    const model = scriptedModel([{ error: new ModelError("provider said 500", { status: 500, retryable: true }) }]);
    const error = await run({ model }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunModelError);
    expect((error as RunModelError).message).toBe("provider said 500");
  });

  it("emits events in order: step, tools, step, deltas, completed", async () => {
    const events: AgentEvent["type"][] = [];
    const model = scriptedModel([{ toolCalls: [call("a", "calc", { expression: "1+1" })] }, { text: "two" }]);
    await run({ model, tools: [calcTool], stream: true, onEvent: (e) => events.push(e.type) });
    expect(events).toEqual(["run.started", "step.started", "tool.started", "tool.finished", "step.started", "model.delta", "run.completed"]);
  });

  it("a run that fails after streaming text reports the step in progress, its text so far, and not `stop`", async () => {
    const model = scriptedModel([
      (request) => {
        request.onDelta?.("The answer ");
        request.onDelta?.("is");
        return { error: new ModelError("the stream broke", { status: 502, retryable: false }) };
      },
    ]);
    const error = await run({ model, stream: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunModelError);
    const partial = (error as RunModelError).partial;
    expect(partial.output).toBe("The answer is");
    expect(partial.finishReason).toBe("error");
    expect(partial.steps).toHaveLength(1);
    expect(partial.steps[0]!.finishReason).toBe("incomplete");
  });

  it("a throwing event listener does not break the run", async () => {
    const model = scriptedModel([{ text: "fine" }]);
    const result = await run({
      model,
      onEvent: () => {
        throw new Error("listener broke");
      },
    });
    expect(result.output).toBe("fine");
  });

  it("treats empty arguments as an empty object for tools without parameters", async () => {
    const noArgs = defineTool({ name: "ping", description: "pong", input: z.object({}), run: async () => "pong" });
    const model = scriptedModel([{ toolCalls: [call("p", "ping", "")] }, { text: "ok" }]);
    const result = await run({ model, tools: [noArgs] });
    expect(toolMessages(result.messages)[0]!.content).toBe("pong");
  });
});
