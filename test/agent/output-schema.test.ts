import { describe, expect, it } from "bun:test";
import { type OutputSchema, runAgent } from "../../src/agent/index.ts";
import { compileOutputSchema } from "../../src/contract/output-validator.ts";
import { calcTool } from "../../src/tools/builtin/calc.ts";
import { call, scriptedModel } from "../fakes/scripted-model.ts";

const limits = { maxSteps: 10, toolTimeoutMs: 5_000, toolOutputLimit: 64 * 1024 };
const answerSchema = { type: "object", properties: { answer: { type: "number" } }, required: ["answer"], additionalProperties: false };

function schema(retries = 1): OutputSchema {
  const compiled = compileOutputSchema(answerSchema, retries);
  if (!compiled.ok) throw new Error(compiled.message);
  return compiled.value;
}

describe("runAgent with an output schema", () => {
  it("asks for response_format on every call and keeps a valid answer's parsed value", async () => {
    const model = scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "6*7" })] }, { text: '{"answer": 42}' }]);
    const result = await runAgent({ model, tools: [calcTool], messages: [{ role: "user", content: "6*7?" }], limits, outputSchema: schema() });
    expect(result.finishReason).toBe("stop");
    expect(result.outputJson).toEqual({ answer: 42 });
    expect(result.output).toBe('{"answer": 42}');
    for (const request of model.requests) expect(request.responseFormat).toEqual({ type: "json_schema", name: "output", schema: answerSchema });
  });

  it("answers an invalid answer with one corrective turn naming the errors, counted as a step", async () => {
    const model = scriptedModel([{ text: '{"answer": "42"}' }, { text: '{"answer": 42}' }]);
    const result = await runAgent({ model, tools: [], messages: [{ role: "user", content: "6*7?" }], limits, outputSchema: schema() });
    expect(result.finishReason).toBe("stop");
    expect(result.outputJson).toEqual({ answer: 42 });
    expect(result.steps).toHaveLength(2);
    const corrective = model.requests[1]!.messages.at(-1)!;
    expect(corrective).toEqual({
      role: "user",
      content: "Your answer is not valid against the required output schema:\n/answer: must be number\nAnswer again with only the corrected JSON value, nothing before or after it.",
    });
    // The correction stays in the conversation, between the two answers.
    expect(result.messages.map((message) => message.role)).toEqual(["user", "assistant", "user", "assistant"]);
  });

  it("ends with output_schema, the last answer and its errors, when the retries run out", async () => {
    const model = scriptedModel([{ text: "forty-two" }, { text: '{"answer": 42, "unit": "none"}' }, { text: "unused" }]);
    const result = await runAgent({ model, tools: [], messages: [{ role: "user", content: "6*7?" }], limits, outputSchema: schema(1) });
    expect(result.finishReason).toBe("output_schema");
    expect(result.output).toBe('{"answer": 42, "unit": "none"}');
    expect(result.outputSchemaErrors).toBe('(root): must NOT have additional properties ("unit")');
    expect(result.outputJson).toBeUndefined();
    expect(model.requests).toHaveLength(2);
  });

  it("with output_schema_retries 0 fails at the first invalid answer", async () => {
    const model = scriptedModel([{ text: "```json\n[42]\n```" }]);
    const result = await runAgent({ model, tools: [], messages: [{ role: "user", content: "q" }], limits, outputSchema: schema(0) });
    expect(result.finishReason).toBe("output_schema");
    expect(result.outputSchemaErrors).toBe("(root): must be object");
  });

  it("sends no corrective turn past max_steps: the run ends with output_schema instead", async () => {
    const model = scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "1+1" })] }, { text: "2" }]);
    const result = await runAgent({ model, tools: [calcTool], messages: [{ role: "user", content: "q" }], limits: { ...limits, maxSteps: 2 }, outputSchema: schema(3) });
    expect(result.finishReason).toBe("output_schema");
    expect(model.requests).toHaveLength(2);
  });

  it("takes a fenced JSON answer (models without response_format add one)", async () => {
    const model = scriptedModel([{ text: '```json\n{"answer": 1}\n```' }]);
    const result = await runAgent({ model, tools: [], messages: [{ role: "user", content: "q" }], limits, outputSchema: schema() });
    expect(result.outputJson).toEqual({ answer: 1 });
  });
});

describe("compileOutputSchema", () => {
  it("refuses what is not a JSON Schema, saying why", () => {
    expect(compileOutputSchema([], 1)).toEqual({ ok: false, message: 'expected a JSON Schema object, such as {"type":"object","properties":{…}}, got an array' });
    const bad = compileOutputSchema({ type: "strin" }, 1);
    expect(bad.ok).toBe(false);
    expect(bad.ok ? "" : bad.message).toStartWith("not a valid JSON Schema: schema is invalid: data/type must be equal to one of the allowed values");
  });

  it("reads draft-07 and 2020-12 schemas, with formats, and names the schema after its title", () => {
    const draft7 = compileOutputSchema({ $schema: "http://json-schema.org/draft-07/schema#", title: "Meeting time", type: "string", format: "date-time" }, 1);
    expect(draft7.ok).toBe(true);
    if (!draft7.ok) return;
    expect(draft7.value.name).toBe("Meeting_time");
    expect(draft7.value.validate('"2026-01-02T03:04:05Z"')).toEqual({ ok: true, value: "2026-01-02T03:04:05Z" });
    expect(draft7.value.validate('"tomorrow"')).toEqual({ ok: false, errors: '(root): must match format "date-time"' });
    const tuple = compileOutputSchema({ type: "array", prefixItems: [{ type: "number" }], items: false }, 1);
    expect(tuple.ok && tuple.value.validate("[1, 2]")).toEqual({ ok: false, errors: "(root): must NOT have more than 1 items" });
  });
});
