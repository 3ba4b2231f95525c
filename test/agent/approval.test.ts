import { describe, expect, it } from "bun:test";
import { z } from "zod";
import { runAgent } from "../../src/agent/index.ts";
import { type ApprovalGate, approvalPolicy, deniedOutput } from "../../src/agent/approval.ts";
import type { JournalledModelCall, RunJournal } from "../../src/agent/journal.ts";
import type { Message, ToolMessage } from "../../src/model/messages.ts";
import { defineTool } from "../../src/tools/define-tool.ts";
import type { ApprovalSpanInfo, Tracer } from "../../src/telemetry/tracer.ts";
import { call, scriptedModel } from "../fakes/scripted-model.ts";

const limits = { maxSteps: 6, toolTimeoutMs: 5_000, toolOutputLimit: 64 * 1024 };
const question: Message[] = [{ role: "user", content: "go" }];

function counted(name: string, counts: Map<string, number>) {
  return defineTool({
    name,
    description: "counts",
    input: z.object({ n: z.number() }),
    run: async ({ n }) => {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return { n, by: name };
    },
  });
}

/** A gate that requires approval for `names` and answers with `answer`, recording what it was asked. */
function gate(names: readonly string[], answer: ApprovalGate["decide"] extends (r: infer R) => infer A ? (request: R) => Awaited<A> : never) {
  const asked: string[][] = [];
  const requires = approvalPolicy(names);
  const approvals: ApprovalGate = {
    requires,
    async decide(request) {
      asked.push(request.calls.map((c) => c.id));
      return answer(request);
    },
  };
  return { approvals, asked };
}

function recordingJournal() {
  const entries: string[] = [];
  const journal: RunJournal = {
    modelResponded: async (entry) => void entries.push(`model:${entry.step}`),
    toolsStarting: async (step, calls) => void entries.push(`start:${step}:${calls.map((c) => c.id).join(",")}`),
    toolFinished: async (step, record) => void entries.push(`done:${step}:${record.id}`),
    approvalsDecided: async (step, decisions) => void entries.push(`decided:${step}:${decisions.map((d) => `${d.callId}=${d.approve}`).join(",")}`),
  };
  return { journal, entries };
}

const tools = (counts: Map<string, number>) => [counted("write", counts), counted("read", counts)];
const stepCalls = [call("w1", "write", { n: 1 }), call("r1", "read", { n: 2 }), call("w2", "write", { n: 3 })];

describe("runAgent with approvals", () => {
  it("asks once per step for the calls that need it, runs the approved, tells the model the denial's reason", async () => {
    const counts = new Map<string, number>();
    const { approvals, asked } = gate(["write"], (request) =>
      request.calls.map((c) => (c.id === "w1" ? { callId: c.id, approve: true } : { callId: c.id, approve: false, reason: "not that file" })),
    );
    const { journal, entries } = recordingJournal();
    const model = scriptedModel([{ toolCalls: stepCalls }, { text: "ok" }]);
    const result = await runAgent({ model, tools: tools(counts), messages: question, limits, approvals, journal });
    expect(result.output).toBe("ok");
    expect(asked).toEqual([["w1", "w2"]]);
    expect(counts.get("write")).toBe(1);
    expect(counts.get("read")).toBe(1);
    const sent = model.requests[1]!.messages.filter((m): m is ToolMessage => m.role === "tool");
    expect(sent.find((m) => m.tool_call_id === "w2")!.content).toBe(deniedOutput("not that file"));
    // The decision is journalled before the approved call starts; the denied one never starts.
    expect(entries.slice(0, 3)).toEqual(["model:1", "decided:1:w1=true,w2=false", "start:1:w1,r1"]);
  });

  it("pauses with requires_action when nobody can decide: the other calls run, the pending ones do not", async () => {
    const counts = new Map<string, number>();
    const { approvals } = gate(["write"], () => "pause");
    const model = scriptedModel([{ toolCalls: stepCalls }]);
    const result = await runAgent({ model, tools: tools(counts), messages: question, limits, approvals });
    expect(result.finishReason).toBe("requires_action");
    expect(result.pendingApprovals).toEqual([
      { step: 1, callId: "w1", name: "write", arguments: '{"n":1}' },
      { step: 1, callId: "w2", name: "write", arguments: '{"n":3}' },
    ]);
    expect(counts.get("write")).toBeUndefined();
    expect(counts.get("read")).toBe(1);
    expect(result.steps[0]!.toolCalls.map((c) => c.id)).toEqual(["r1"]);
  });

  it("resumes a paused run with the decisions from its journal, without asking again", async () => {
    const counts = new Map<string, number>();
    const model: JournalledModelCall = {
      step: 1,
      startMs: 0,
      durationMs: 1,
      response: {
        message: { role: "assistant", content: null, tool_calls: stepCalls },
        usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, reasoningTokens: 0 },
        finishReason: "tool_calls",
        id: "x",
        model: "scripted",
        provider: "test",
      },
    };
    const r1 = { id: "r1", name: "read", arguments: '{"n":2}', ok: true, output: '{"n":2,"by":"read"}', startMs: 1, durationMs: 1 };
    const { approvals, asked } = gate(["write"], () => {
      throw new Error("must not ask");
    });
    const next = scriptedModel([{ text: "done" }]);
    const result = await runAgent({
      model: next,
      tools: tools(counts),
      messages: question,
      limits,
      approvals,
      resume: {
        point: {
          steps: [
            {
              model,
              startedCallIds: new Set(["r1"]),
              finished: new Map([["r1", r1]]),
              decisions: new Map([
                ["w1", { callId: "w1", approve: false, reason: "no" }],
                ["w2", { callId: "w2", approve: true }],
              ]),
            },
          ],
        },
        elapsedMs: 0,
        attempt: 2,
        replica: "r",
      },
    });
    expect(result.output).toBe("done");
    expect(asked).toEqual([]);
    expect(counts.get("write")).toBe(1);
    expect(counts.get("read")).toBeUndefined();
    const outputs = Object.fromEntries(result.steps[0]!.toolCalls.map((c) => [c.id, c.output]));
    expect(outputs["w1"]).toBe(deniedOutput("no"));
    expect(JSON.parse(outputs["w2"]!)).toEqual({ n: 3, by: "write" });
  });
});

describe("approvals on the run's span", () => {
  it("records each decision the run applies, with who decided and how long the call waited", async () => {
    const counts = new Map<string, number>();
    const seen: ApprovalSpanInfo[] = [];
    const tracer: Tracer = {
      startRun: () => ({
        traceId: undefined,
        startChat: () => ({ end() {}, fail() {}, event() {} }),
        startTool: () => ({ traceparent: undefined, end() {}, fail() {} }),
        approvalDecided: (decision) => void seen.push(decision),
        end() {},
      }),
    };
    const { approvals } = gate(["write"], (request) => request.calls.map((c) => ({ callId: c.id, approve: c.id === "w1" })));
    await runAgent({ model: scriptedModel([{ toolCalls: stepCalls }, { text: "ok" }]), tools: tools(counts), messages: question, limits, approvals, tracer });
    expect(seen.map((d) => [d.callId, d.toolName, d.approve, d.by])).toEqual([
      ["w1", "write", true, "terminal"],
      ["w2", "write", false, "terminal"],
    ]);
    expect(seen.every((d) => typeof d.waitMs === "number" && d.waitMs >= 0)).toBe(true);
  });
});

describe("approvalPolicy", () => {
  it("matches exact names and * globs, and nothing when empty", () => {
    const needs = approvalPolicy(["fs_write", "github__*", "*_delete"]);
    expect(["fs_write", "github__create_issue", "db_delete"].map(needs)).toEqual([true, true, true]);
    expect(["fs_read", "github", "xgithub__a", "delete_x"].map(needs)).toEqual([false, false, false, false]);
    expect(approvalPolicy([])("fs_write")).toBe(false);
    expect(approvalPolicy(["a.b"])("axb")).toBe(false);
  });
});
