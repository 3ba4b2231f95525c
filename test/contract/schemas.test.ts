/**
 * The published schemas against what skiff writes, in process: the HTTP API's run bodies and
 * every event of its streams (foreground SSE, stored events of background runs, a paused run, a
 * failed and a cancelled one) validate with Ajv against `skiff schema result|event`; the schemas
 * themselves are pinned in test/fixtures/schemas/ so a change shows in review.
 */
import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { jsonSchemaOf } from "../../src/cli/schema-cmd.ts";
import { eventTypes } from "../../src/contract/event-schema.ts";
import { runEventTypes } from "../../src/runs/journal-codec.ts";
import { calcTool } from "../../src/tools/builtin/calc.ts";
import { call, scriptedModel } from "../fakes/scripted-model.ts";
import { readSse, request, slowTool, testApp, type TestApp } from "../server/helpers.ts";

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validateResult = ajv.compile(jsonSchemaOf("result"));
const validateEvent = ajv.compile(jsonSchemaOf("event"));
const fixtures = join(import.meta.dir, "../fixtures/schemas");

function expectResult(document: unknown): void {
  if (!validateResult(document)) throw new Error(`not a valid result: ${JSON.stringify(validateResult.errors)}\n${JSON.stringify(document)}`);
}

/** Every event's data validates, and its `type` is the SSE event name; returns the names. */
function expectEvents(events: readonly { event: string | undefined; data: string }[]): string[] {
  for (const event of events) {
    const data = JSON.parse(event.data) as { type?: string };
    if (!validateEvent(data)) throw new Error(`not a valid event: ${JSON.stringify(validateEvent.errors)}\n${event.data}`);
    expect(data.type).toBe(event.event!);
  }
  return events.map((event) => event.event!);
}

async function json(t: TestApp, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  return (await (await t.app.fetch(request(method, path, body))).json()) as Record<string, unknown>;
}

describe("skiff schema result|event", () => {
  it("are the pinned JSON Schemas (update test/fixtures/schemas/ on purpose, and say so in the docs)", () => {
    for (const name of ["result", "event"]) {
      expect(jsonSchemaOf(name)).toEqual(JSON.parse(readFileSync(join(fixtures, `${name}.schema.json`), "utf8")) as Record<string, unknown>);
    }
  });

  it("give every event type the stored journal and the streams use a member", () => {
    expect(new Set(eventTypes)).toEqual(new Set([...runEventTypes, "model.delta"]));
  });

  it("refuse a document with a field they do not describe", () => {
    expect(validateResult({ schema_version: 1, output: "", finish_reason: "stop", steps: [], usage: { input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, reasoning_tokens: 0 }, cost_usd: null, trace_id: null, duration_ms: 0 })).toBe(true);
    expect(validateResult({ schema_version: 1, output: "", finish_reason: "stop", steps: [], usage: { input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, reasoning_tokens: 0 }, cost_usd: null, trace_id: null, duration_ms: 0, extra: 1 })).toBe(false);
    expect(validateEvent({ schema_version: 1, type: "step.started", step: 1, extra: true })).toBe(false);
  });
});

describe("POST /v1/runs and GET /v1/runs/{id}/events against the schemas", () => {
  it("a streamed run: every SSE event, and the JSON body of the same run unstreamed", async () => {
    const t = testApp({ model: scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "6*7" })] }, { text: "42" }, { text: "again" }]), tools: [calcTool] });
    const streamed = await readSse(await t.app.fetch(request("POST", "/v1/runs", { input: "6*7?", stream: true })));
    expect(expectEvents(streamed)).toEqual(["run.started", "step.started", "tool.started", "tool.finished", "step.started", "model.delta", "run.completed"]);
    const body = await json(t, "POST", "/v1/runs", { input: "again?" });
    expectResult(body);
    expect(body["schema_version"]).toBe(1);
  });

  it("a background run with an output schema: its stored events, its run object, and output_json", async () => {
    const model = scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "6*7" })] }, { text: "42" }, { text: '{"answer": 42}' }]);
    const t = testApp({ model, tools: [calcTool] });
    const schema = { type: "object", properties: { answer: { type: "number" } }, required: ["answer"] };
    const run = await json(t, "POST", "/v1/runs", { input: "6*7?", background: true, output_schema: schema });
    const events = await readSse(await t.app.fetch(request("GET", `/v1/runs/${String(run["id"])}/events`)));
    expect(expectEvents(events)).toEqual(["run.queued", "run.started", "step.started", "model.completed", "tool.started", "tool.finished", "step.started", "model.completed", "step.started", "model.completed", "run.completed"].slice(events[0]?.event === "run.queued" ? 0 : 1));
    const done = await json(t, "GET", `/v1/runs/${String(run["id"])}`);
    expectResult(done);
    expect(done["output_json"]).toEqual({ answer: 42 });
    expect(model.requests[2]!.responseFormat?.schema).toEqual(schema);
  });

  it("a paused, a failed and a cancelled run end with valid events; a failure's partial is a result", async () => {
    const paused = testApp({ model: scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "1+1" })] }]), tools: [calcTool], extra: { requiresApproval: (name) => name === "calc" } });
    const pausedEvents = await readSse(await paused.app.fetch(request("POST", "/v1/runs", { input: "q", stream: true })));
    expect(expectEvents(pausedEvents).at(-1)).toBe("run.requires_action");

    const failing = testApp({ model: scriptedModel([{ hang: true }]), tools: [] });
    const failed = await readSse(await failing.app.fetch(request("POST", "/v1/runs", { input: "q", stream: true, timeout: "50ms" })));
    expect(expectEvents(failed).at(-1)).toBe("run.failed");
    expectResult((JSON.parse(failed.at(-1)!.data) as { partial: unknown }).partial);

    const tool = slowTool();
    const cancelling = testApp({ model: scriptedModel([{ toolCalls: [call("s", "slow", {})] }]), tools: [tool] });
    const run = await json(cancelling, "POST", "/v1/runs", { input: "q", background: true });
    await tool.running;
    await cancelling.app.fetch(request("POST", `/v1/runs/${String(run["id"])}/cancel`));
    const cancelled = await readSse(await cancelling.app.fetch(request("GET", `/v1/runs/${String(run["id"])}/events`)));
    expect(expectEvents(cancelled).at(-1)).toBe("run.cancelled");
  });

  it("refuses an output_schema that is not a JSON Schema with a 400 naming the field", async () => {
    const t = testApp();
    for (const output_schema of [{ type: "strin" }, "a string", [1]]) {
      const res = await t.app.fetch(request("POST", "/v1/runs", { input: "q", output_schema }));
      expect(res.status).toBe(400);
      const error = ((await res.json()) as { error: { param: string; message: string } }).error;
      expect(error.param).toBe("output_schema");
    }
  });
});
