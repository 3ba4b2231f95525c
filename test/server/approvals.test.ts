/**
 * Tool calls that wait for a person, over HTTP in process: a run pauses in requires_action with
 * its pending calls, decisions arrive by POST /v1/runs/{id}/approvals, and the run goes on; bad
 * decisions get clear 4xx answers; server.approval_timeout denies what stays undecided.
 */
import { describe, expect, it } from "bun:test";
import { z } from "zod";
import { approvalPolicy, deniedOutput } from "../../src/agent/approval.ts";
import type { ToolMessage } from "../../src/model/messages.ts";
import { defineTool } from "../../src/tools/define-tool.ts";
import { call, scriptedModel } from "../fakes/scripted-model.ts";
import { readSse, request, testApp, type TestApp } from "./helpers.ts";

function counted(name: string, counts: Map<string, number>) {
  return defineTool({
    name,
    description: "counts",
    input: z.object({ n: z.number() }),
    run: async ({ n }) => {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return { n };
    },
  });
}

interface RunObject {
  id: string;
  status: string;
  output?: string;
  pending_approvals?: { step: number; call_id: string; tool: string; arguments: string }[];
}

const twoWrites = [call("w1", "write", { n: 1 }), call("w2", "write", { n: 2 }), call("r1", "read", { n: 3 })];

function approvalApp(counts: Map<string, number>, model = scriptedModel([{ toolCalls: twoWrites }, { text: "finished" }]), extra: Parameters<typeof testApp>[0] = {}) {
  const t = testApp({ model, tools: [counted("write", counts), counted("read", counts)], extra: { requiresApproval: approvalPolicy(["write"]) }, ...extra });
  return { t, model };
}

async function decide(t: TestApp, id: string, decisions: unknown): Promise<Response> {
  return t.app.fetch(request("POST", `/v1/runs/${id}/approvals`, { decisions }));
}

async function untilFinished(t: TestApp, id: string): Promise<RunObject> {
  const events = await readSse(await t.app.fetch(request("GET", `/v1/runs/${id}/events`)));
  expect(["run.completed", "run.failed", "run.cancelled"]).toContain(String(events.at(-1)?.event));
  return (await (await t.app.fetch(request("GET", `/v1/runs/${id}`))).json()) as RunObject;
}

describe("approvals over HTTP", () => {
  it("pauses a run with its pending calls (202), runs the other calls, and continues once both are decided", async () => {
    const counts = new Map<string, number>();
    const { t, model } = approvalApp(counts);
    const res = await t.app.fetch(request("POST", "/v1/runs", { input: "write twice" }));
    expect(res.status).toBe(202);
    const paused = (await res.json()) as RunObject;
    expect(paused.status).toBe("requires_action");
    expect(paused.pending_approvals).toEqual([
      { step: 1, call_id: "w1", tool: "write", arguments: '{"n":1}' },
      { step: 1, call_id: "w2", tool: "write", arguments: '{"n":2}' },
    ]);
    expect(counts.get("read")).toBe(1);
    expect(counts.get("write")).toBeUndefined();
    const shown = (await (await t.app.fetch(request("GET", `/v1/runs/${paused.id}`))).json()) as RunObject;
    expect(shown.status).toBe("requires_action");

    const first = await decide(t, paused.id, [{ call_id: "w1", approve: true }]);
    expect(first.status).toBe(200);
    expect(((await first.json()) as RunObject).pending_approvals?.map((p) => p.call_id)).toEqual(["w2"]);
    expect(counts.get("write")).toBeUndefined();
    const second = await decide(t, paused.id, [{ call_id: "w2", approve: false, reason: "not that one" }]);
    expect(second.status).toBe(200);

    const done = await untilFinished(t, paused.id);
    expect(done).toMatchObject({ status: "completed", output: "finished" });
    expect(counts.get("write")).toBe(1);
    expect(counts.get("read")).toBe(1);
    const sent = model.requests[1]!.messages.filter((m): m is ToolMessage => m.role === "tool");
    expect(sent.map((m) => m.tool_call_id)).toEqual(["w1", "w2", "r1"]);
    expect(sent[1]!.content).toBe(deniedOutput("not that one"));
    const events = await readSse(await t.app.fetch(request("GET", `/v1/runs/${paused.id}/events`)));
    const decided = events.filter((e) => e.event === "approval.decided").map((e) => JSON.parse(e.data) as Record<string, unknown>);
    expect(decided.map((d) => [d["call_id"], d["approve"], d["by"]])).toEqual([
      ["w1", true, "api"],
      ["w2", false, "api"],
    ]);
    expect(t.logs.filter((line) => line["msg"] === "approval decided")).toHaveLength(2);
  });

  it("refuses decisions it cannot take, each with a clear 4xx", async () => {
    const counts = new Map<string, number>();
    const { t } = approvalApp(counts);
    const paused = (await (await t.app.fetch(request("POST", "/v1/runs", { input: "write twice" }))).json()) as RunObject;
    const unknown = await decide(t, paused.id, [{ call_id: "nope", approve: true }]);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain('has no pending call "nope"; pending: w1, w2');
    const twice = await decide(t, paused.id, [{ call_id: "w1", approve: true }, { call_id: "w1", approve: false }]);
    expect(twice.status).toBe(400);
    expect((await decide(t, paused.id, [])).status).toBe(400);
    expect((await decide(t, paused.id, [{ call_id: "w1", approve: "yes" }])).status).toBe(400);
    expect((await decide(t, paused.id, [{ call_id: "w1", approve: true }])).status).toBe(200);
    const again = await decide(t, paused.id, [{ call_id: "w1", approve: false }]);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { message: string } }).error.message).toContain("was already decided");
    expect((await decide(t, "run_missing", [{ call_id: "w1", approve: true }])).status).toBe(404);
    // A run that does not wait takes no decisions.
    const plain = testApp();
    const ran = await plain.app.fetch(request("POST", "/v1/runs", { input: "what is 2*3?", background: true }));
    const id = ((await ran.json()) as RunObject).id;
    await untilFinished(plain, id);
    expect((await decide(plain, id, [{ call_id: "x", approve: true }])).status).toBe(409);
  });

  it("denies what is still undecided when server.approval_timeout passes", async () => {
    const counts = new Map<string, number>();
    let clock = Date.now();
    const model = scriptedModel([{ toolCalls: twoWrites }, { text: "finished" }]);
    // The app's clock decides when the wait is over; the sweep runs every tenth of the timeout (at least 1 s).
    const app = testApp({
      model,
      tools: [counted("write", counts), counted("read", counts)],
      settings: { approvalTimeoutMs: 10_000 },
      extra: { requiresApproval: approvalPolicy(["write"]), now: () => clock },
    });
    const paused = (await (await app.app.fetch(request("POST", "/v1/runs", { input: "write twice" }))).json()) as RunObject;
    expect(paused.status).toBe("requires_action");
    clock += 11_000;
    const done = await untilFinished(app, paused.id);
    expect(done.status).toBe("completed");
    expect(counts.get("write")).toBeUndefined();
    const sent = model.requests[1]!.messages.filter((m): m is ToolMessage => m.role === "tool");
    expect(sent[0]!.content).toContain("no decision within server.approval_timeout (10s); denied");
  });

  it("denies, with an explanation, calls needing approval on /v1/chat/completions, whose clients cannot answer", async () => {
    const counts = new Map<string, number>();
    const { t, model } = approvalApp(counts);
    const res = await t.app.fetch(request("POST", "/v1/chat/completions", { model: "skiff", messages: [{ role: "user", content: "write twice" }] }));
    expect(res.status).toBe(200);
    expect(counts.get("write")).toBeUndefined();
    expect(counts.get("read")).toBe(1);
    const sent = model.requests[1]!.messages.filter((m): m is ToolMessage => m.role === "tool");
    expect(sent[0]!.content).toContain("/v1/chat/completions cannot ask for");
  });
});
