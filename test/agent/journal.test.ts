import { describe, expect, it } from "bun:test";
import { z } from "zod";
import { runAgent } from "../../src/agent/index.ts";
import {
  interruptedCallOutput,
  type JournalledModelCall,
  type JournalledStep,
  type ResumePoint,
  type RunJournal,
} from "../../src/agent/journal.ts";
import { RunJournalError } from "../../src/agent/errors.ts";
import type { ToolCallRecord } from "../../src/agent/result.ts";
import type { Message, ToolCall, ToolMessage } from "../../src/model/messages.ts";
import { defineTool } from "../../src/tools/define-tool.ts";
import { call, scriptedModel } from "../fakes/scripted-model.ts";

const limits = { maxSteps: 6, toolTimeoutMs: 5_000, toolOutputLimit: 64 * 1024 };
const question: Message[] = [{ role: "user", content: "go" }];

/** A journal that records every entry in order, as a store would. */
function recordingJournal() {
  const entries: string[] = [];
  const models: JournalledModelCall[] = [];
  const started = new Map<number, string[]>();
  const finished = new Map<number, ToolCallRecord[]>();
  const journal: RunJournal = {
    async modelResponded(entry) {
      entries.push(`model:${entry.step}`);
      models.push(entry);
    },
    async toolsStarting(step, calls) {
      entries.push(`start:${step}:${calls.map((c) => c.id).join(",")}`);
      started.set(step, [...(started.get(step) ?? []), ...calls.map((c) => c.id)]);
    },
    async toolFinished(step, record) {
      entries.push(`done:${step}:${record.id}`);
      finished.set(step, [...(finished.get(step) ?? []), record]);
    },
    async approvalsDecided(step, decisions) {
      entries.push(`decided:${step}:${decisions.map((d) => `${d.callId}=${d.approve}`).join(",")}`);
    },
  };
  /** The resume point as a journal holding these entries would rebuild it. */
  const point = (): ResumePoint => ({
    steps: models.map(
      (model): JournalledStep => ({
        model,
        startedCallIds: new Set(started.get(model.step) ?? []),
        finished: new Map((finished.get(model.step) ?? []).map((r) => [r.id, r])),
      }),
    ),
  });
  return { journal, entries, point, models, started, finished };
}

/** A tool that counts its executions. */
function counted(name: string, counts: Map<string, number>, idempotent = false) {
  return defineTool({
    name,
    description: "counts",
    input: z.object({ n: z.number() }),
    idempotent,
    run: async ({ n }) => {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return { n, by: name };
    },
  });
}

const step1: ToolCall[] = [call("a1", "write", { n: 1 }), call("a2", "read", { n: 2 })];

describe("runAgent with a journal", () => {
  it("records each model response before its tools start and each tool result as it finishes", async () => {
    const counts = new Map<string, number>();
    const { journal, entries } = recordingJournal();
    const model = scriptedModel([{ toolCalls: step1 }, { text: "done" }]);
    const result = await runAgent({ model, tools: [counted("write", counts), counted("read", counts, true)], messages: question, limits, journal });
    expect(result.output).toBe("done");
    expect(entries[0]).toBe("model:1");
    expect(entries[1]).toBe("start:1:a1,a2");
    expect(entries.slice(2, 4).sort()).toEqual(["done:1:a1", "done:1:a2"]);
    expect(entries[4]).toBe("model:2");
    expect(entries).toHaveLength(5);
  });

  it("fails the run with RunJournalError when a write fails, before the step's tools run", async () => {
    const counts = new Map<string, number>();
    const model = scriptedModel([{ toolCalls: step1 }, { text: "never" }]);
    // A journal keeps its order: once a write failed, every later one fails too.
    const full = async () => {
      throw new Error("disk full");
    };
    const journal: RunJournal = { modelResponded: full, toolsStarting: full, toolFinished: full, approvalsDecided: full };
    const failure = await runAgent({ model, tools: [counted("write", counts), counted("read", counts)], messages: question, limits, journal }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RunJournalError);
    expect((failure as RunJournalError).message).toContain("disk full");
    expect(counts.size).toBe(0);
  });
});

describe("runAgent resuming from a journal", () => {
  it("repeats no journalled model call and no finished tool call, and continues after them", async () => {
    const counts = new Map<string, number>();
    const tools = [counted("write", counts), counted("read", counts, true)];
    const first = recordingJournal();
    // The first attempt: step 1 fully done, step 2's model answered, then the process "died".
    const crashing = scriptedModel([{ toolCalls: step1 }, { toolCalls: [call("b1", "read", { n: 3 })] }, { error: new Error("process killed") }]);
    await runAgent({ model: crashing, tools, messages: question, limits, journal: first.journal }).catch(() => {});
    expect(counts.get("write")).toBe(1);
    expect(counts.get("read")).toBe(2);

    const counts2 = new Map<string, number>();
    const tools2 = [counted("write", counts2), counted("read", counts2, true)];
    const second = recordingJournal();
    const resumed = scriptedModel([{ text: "finished" }]);
    const result = await runAgent({
      model: resumed,
      tools: tools2,
      messages: question,
      limits,
      journal: second.journal,
      resume: { point: first.point(), elapsedMs: 10, attempt: 2, replica: "r2" },
    });
    expect(result.output).toBe("finished");
    expect(resumed.requests).toHaveLength(1); // only step 3 asked the model
    expect(counts2.size).toBe(0); // every tool call had finished before the crash
    expect(result.steps.map((s) => s.index)).toEqual([1, 2, 3]);
    // The model of step 3 saw the whole history, with each tool result once.
    const sent = resumed.requests[0]!.messages;
    expect(sent.filter((m): m is ToolMessage => m.role === "tool").map((m) => m.tool_call_id)).toEqual(["a1", "a2", "b1"]);
    // Usage counts the journalled steps too, so budgets hold across a recovery.
    expect(result.usage.inputTokens).toBe(30);
    expect(second.entries).toEqual(["model:3"]);
  });

  it("runs an interrupted idempotent call again and tells the model about an interrupted other call", async () => {
    const counts = new Map<string, number>();
    const tools = [counted("write", counts), counted("read", counts, true)];
    const model: JournalledModelCall = {
      step: 1,
      startMs: 0,
      durationMs: 1,
      response: {
        message: { role: "assistant", content: null, tool_calls: [...step1, call("a3", "read", { n: 9 })] },
        usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, reasoningTokens: 0 },
        finishReason: "tool_calls",
        id: "r1",
        model: "scripted",
        provider: "test",
      },
    };
    // a1 (write) and a2 (read) had started, a3 had not; nothing had finished.
    const point: ResumePoint = { steps: [{ model, startedCallIds: new Set(["a1", "a2"]), finished: new Map() }] };
    const journal = recordingJournal();
    const next = scriptedModel([{ text: "ok" }]);
    const result = await runAgent({ model: next, tools, messages: question, limits, journal: journal.journal, resume: { point, elapsedMs: 0, attempt: 2, replica: "r" } });
    expect(result.output).toBe("ok");
    expect(counts.get("write")).toBeUndefined();
    expect(counts.get("read")).toBe(2); // a2 again (idempotent) and a3 (never started)
    const outputs = Object.fromEntries(result.steps[0]!.toolCalls.map((r) => [r.id, r.output]));
    expect(outputs["a1"]).toBe(interruptedCallOutput);
    expect(JSON.parse(outputs["a2"]!)).toEqual({ n: 2, by: "read" });
    expect(JSON.parse(outputs["a3"]!)).toEqual({ n: 9, by: "read" });
    expect(journal.entries[0]).toBe("start:1:a2,a3");
    expect(journal.entries.filter((e) => e.startsWith("done:1:")).sort()).toEqual(["done:1:a1", "done:1:a2", "done:1:a3"]);
  });

  it("finishes without calling the model when the journal holds the final answer", async () => {
    const model: JournalledModelCall = {
      step: 1,
      startMs: 0,
      durationMs: 1,
      response: {
        message: { role: "assistant", content: "the answer" },
        usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, reasoningTokens: 0 },
        finishReason: "stop",
        id: "r1",
        model: "scripted",
        provider: "test",
      },
    };
    const never = scriptedModel([]);
    const result = await runAgent({ model: never, tools: [], messages: question, limits, resume: { point: { steps: [{ model, startedCallIds: new Set(), finished: new Map() }] }, elapsedMs: 0, attempt: 2, replica: "r" } });
    expect(result.output).toBe("the answer");
    expect(never.requests).toHaveLength(0);
  });

  it("counts journalled steps against max_steps", async () => {
    const counts = new Map<string, number>();
    const first = recordingJournal();
    const crashing = scriptedModel([{ toolCalls: [call("a1", "read", { n: 1 })] }, { error: new Error("killed") }]);
    await runAgent({ model: crashing, tools: [counted("read", counts, true)], messages: question, limits: { ...limits, maxSteps: 2 }, journal: first.journal }).catch(() => {});
    const again = scriptedModel([{ toolCalls: [call("b1", "read", { n: 2 })] }]);
    const result = await runAgent({ model: again, tools: [counted("read", counts, true)], messages: question, limits: { ...limits, maxSteps: 2 }, resume: { point: first.point(), elapsedMs: 0, attempt: 2, replica: "r" } });
    expect(result.finishReason).toBe("max_steps");
    expect(result.steps).toHaveLength(2);
    expect(again.requests).toHaveLength(1);
  });
});
