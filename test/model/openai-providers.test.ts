import { afterEach, describe, expect, it } from "bun:test";
import { ModelError } from "../../src/errors.ts";
import type { AssistantMessage, Message } from "../../src/model/messages.ts";
import type { ModelRequest, ModelResponse, ToolSpec } from "../../src/model/model.ts";
import { createOpenAIModel, type OpenAIModelOptions } from "../../src/model/openai.ts";
import { createFakeOpenAIs, type FakeOpenAI, reply } from "../fakes/fake-openai-server.ts";
import { rejectionOf } from "../helpers/rejection.ts";
import { fixtureReplies } from "../fakes/provider-fixtures.ts";

// Each provider's recorded shape (test/fixtures/providers) through the adapter, whole and streamed.

const question: Message[] = [{ role: "user", content: "What is 17*23?" }];
const calc: ToolSpec = { name: "calc", description: "Arithmetic", parameters: { type: "object", properties: { expression: { type: "string" } } } };
const modes = [
  { name: "whole", stream: false },
  { name: "streamed", stream: true },
] as const;

const { start: serve, stopAll: stopFakes } = createFakeOpenAIs();
afterEach(async () => {
  await stopFakes();
});

function modelFor(fake: FakeOpenAI, overrides: Partial<OpenAIModelOptions> = {}) {
  return createOpenAIModel({
    model: "test-model",
    baseURL: fake.url,
    llmTimeoutMs: 10_000,
    retries: 2,
    maxRetryWaitMs: 30_000,
    random: () => 0,
    sleep: async () => {},
    ...overrides,
  });
}

/** One model call; in streamed mode the deltas are collected too. */
async function call(fake: FakeOpenAI, stream: boolean, messages: readonly Message[] = question, overrides: Partial<OpenAIModelOptions> = {}) {
  const deltas: string[] = [];
  const request: ModelRequest = {
    messages,
    tools: [calc],
    signal: new AbortController().signal,
    ...(stream ? { onDelta: (text: string) => deltas.push(text) } : {}),
  };
  const response = await modelFor(fake, overrides).complete(request);
  return { response, deltas };
}

/** The conversation after a tool-calling step, with its tool results, ready for the next call. */
function afterTools(first: ModelResponse): Message[] {
  const results = (first.message.tool_calls ?? []).map((c): Message => ({ role: "tool", tool_call_id: c.id, content: "391" }));
  return [...question, first.message, ...results];
}

function sentAssistant(fake: FakeOpenAI, request: number): Record<string, unknown> {
  const messages = fake.chatRequests()[request]?.body?.messages as Record<string, unknown>[];
  const found = messages.find((m) => m["role"] === "assistant");
  if (!found) throw new Error("no assistant message was sent");
  return found;
}

/** The ModelError `promise` rejected with. */
const failure = (promise: Promise<unknown>): Promise<ModelError> => rejectionOf(promise, ModelError);

describe("createOpenAIModel with each provider's shape", () => {
  for (const mode of modes) {
    it(`keeps DeepSeek's reasoning_content and sends it back with the tool call (${mode.name})`, async () => {
      const fake = serve(fixtureReplies("deepseek-thinking-tools"));
      const first = await call(fake, mode.stream);
      expect(first.response.message).toEqual({
        role: "assistant",
        content: mode.stream ? null : "",
        tool_calls: [{ id: "call_00_DsCalc17x23", name: "calc", arguments: '{"expression":"17*23"}' }],
        reasoning_content: "The user asks for 17*23. The calc tool computes it exactly, so I call it.",
      });
      expect(first.response.usage).toEqual({ inputTokens: 180, outputTokens: 42, cachedInputTokens: 128, reasoningTokens: 18 });
      const second = await call(fake, mode.stream, afterTools(first.response));
      expect(second.response.message.content).toBe("17*23 = 391.");
      expect(second.response.message.reasoning_content).toBe("The tool returned 391, so 17*23 = 391.");
      expect(sentAssistant(fake, 1)).toMatchObject({ reasoning_content: first.response.message.reasoning_content });
      if (mode.stream) expect(second.deltas).toEqual(["17*23", " = 391."]);
    });

    it(`reads Mistral's content parts: text as the answer, thinking as reasoning, never sent back (${mode.name})`, async () => {
      const fake = serve(fixtureReplies("mistral-content-parts"));
      const first = await call(fake, mode.stream);
      expect(first.response.message.content).toBeNull();
      expect(first.response.message.reasoning).toBe("17 times 23: I will let the calc tool do it.");
      expect(first.response.finishReason).toBe("tool_calls");
      const second = await call(fake, mode.stream, afterTools(first.response));
      expect(second.response.message).toEqual({ role: "assistant", content: "17*23 = 391.", reasoning: "The tool says 391." });
      if (mode.stream) expect(second.deltas).toEqual(["17*23 = 3", "91."]);
      // Mistral refuses fields it does not document.
      expect(sentAssistant(fake, 1)).not.toHaveProperty("reasoning");
      expect(sentAssistant(fake, 1)).not.toHaveProperty("reasoning_content");
    });

    it(`counts xAI's reasoning tokens as output, as billed (${mode.name})`, async () => {
      const fake = serve(fixtureReplies("xai-reasoning-usage"));
      const first = await call(fake, mode.stream);
      // total_tokens 547 = 210 prompt + 26 completion + 311 reasoning.
      expect(first.response.usage).toEqual({ inputTokens: 210, outputTokens: 337, cachedInputTokens: 192, reasoningTokens: 311 });
    });

    it(`treats a legacy function_call as one tool call and sends it back as one (${mode.name})`, async () => {
      const fake = serve(fixtureReplies("legacy-function-call"));
      const first = await call(fake, mode.stream);
      expect(first.response.finishReason).toBe("tool_calls");
      expect(first.response.message.tool_calls).toEqual([{ id: "call_0", name: "calc", arguments: '{"expression":"17*23"}' }]);
      await call(fake, mode.stream, afterTools(first.response));
      expect(sentAssistant(fake, 1)).toEqual({
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_0", type: "function", function: { name: "calc", arguments: '{"expression":"17*23"}' } }],
      });
    });

    it(`keeps Gemini's thought signature on the call and sends "{}" for a call without arguments (${mode.name})`, async () => {
      const fake = serve(fixtureReplies("gemini-thought-signatures"));
      const first = await call(fake, mode.stream);
      const signature = { google: { thought_signature: "CpcCAdHtim9eR1m0P0XbLs0ZUuxU3kTqRf2x7kGQpP3Yr8sKx1c4Vn0fSg==" } };
      expect(first.response.message.tool_calls).toEqual([
        { id: "function-call-1130217342", name: "calc", arguments: '{"expression":"17*23"}', extra_content: signature },
        { id: "function-call-1130217343", name: "time", arguments: "" },
      ]);
      // 178 total = 96 prompt + 24 completion + 58 thinking.
      expect(first.response.usage).toMatchObject({ inputTokens: 96, outputTokens: 82, reasoningTokens: 58 });
      await call(fake, mode.stream, afterTools(first.response));
      expect(sentAssistant(fake, 1)["tool_calls"]).toEqual([
        { id: "function-call-1130217342", type: "function", function: { name: "calc", arguments: '{"expression":"17*23"}' }, extra_content: signature },
        { id: "function-call-1130217343", type: "function", function: { name: "time", arguments: "{}" } },
      ]);
    });

    it(`finishes a Snowflake Cortex reply that names no finish reason (${mode.name})`, async () => {
      const fake = serve(fixtureReplies("snowflake-no-finish-reason"));
      const first = await call(fake, mode.stream);
      expect(first.response.finishReason).toBe("tool_calls");
      const second = await call(fake, mode.stream, afterTools(first.response));
      expect(second.response.finishReason).toBe("stop");
      expect(second.response.message.content).toBe("17*23 = 391.");
      expect(second.response.usage).toMatchObject({ inputTokens: 380, outputTokens: 10 });
    });

    it(`reports Azure's content filter as a finish reason, not retried (${mode.name})`, async () => {
      const fake = serve(fixtureReplies("azure-content-filter"));
      const { response, deltas } = await call(fake, mode.stream);
      expect(fake.chatRequests()).toHaveLength(1);
      expect(response.finishReason).toBe("content_filter");
      expect(response.message.content).toBe(mode.stream ? "Here is how the story begins" : "");
      // The stream's first chunk has id "": the first real id is the response's.
      expect(response.id).toBe(mode.stream ? "chatcmpl-AzStream0002" : "chatcmpl-AzWhole0001");
      if (mode.stream) expect(deltas.join("")).toBe("Here is how the story begins");
    });

    it(`honours the status an error inside a 200 names: a 400 is not retried (${mode.name})`, async () => {
      const [rejected] = fixtureReplies("openrouter-stream-errors");
      const fake = serve([rejected!, reply.text("never")]);
      const error = await failure(call(fake, mode.stream));
      expect(fake.chatRequests()).toHaveLength(1);
      expect(error.code).toBe("model_http_400");
      expect(error.retryable).toBe(false);
      expect(error.message).toContain("Invalid schema for function 'calc'");
      expect(error.message).toContain("(code 400)");
      expect(error.message).not.toContain("proxy");
    });

    it(`retries an error inside a 200 that names a 5xx, then succeeds (${mode.name})`, async () => {
      const [, upstream] = fixtureReplies("openrouter-stream-errors");
      const fake = serve([upstream!, reply.text("17*23 = 391.")]);
      const { response } = await call(fake, mode.stream);
      expect(fake.chatRequests()).toHaveLength(2);
      expect(response.message.content).toBe("17*23 = 391.");
    });
  }

  it("reads vLLM's error object and an `event: error` whose data is plain text", async () => {
    const vllm = { object: "error", message: "This model's maximum context length is 4096 tokens.", type: "BadRequestError", param: null, code: 400 };
    const fake = serve([reply.raw({ sse: [`data: ${JSON.stringify(vllm)}\n\n`] }), reply.raw({ sse: ["event: error\ndata: upstream timed out\n\n"] }), reply.text("391")]);
    const refused = await failure(call(fake, true));
    expect(refused.code).toBe("model_http_400");
    expect(refused.message).toContain("maximum context length");
    const { response } = await call(fake, true);
    expect(fake.chatRequests()).toHaveLength(3);
    expect(response.message.content).toBe("391");
  });

  it("fails an answer that ends with finish_reason \"error\" and no error object, and retries it", async () => {
    const chunk = { id: "gen-1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "" }, finish_reason: "error" }] };
    const fake = serve([reply.raw({ sse: [`data: ${JSON.stringify(chunk)}\n\n`, "data: [DONE]\n\n"] }), reply.text("391")]);
    const { response } = await call(fake, true);
    expect(fake.chatRequests()).toHaveLength(2);
    expect(response.message.content).toBe("391");
    const none = serve([reply.raw({ json: { id: "gen-2", choices: [{ index: 0, message: { role: "assistant", content: "" }, finish_reason: "error" }] } })]);
    const error = await failure(call(none, false, question, { retries: 0 }));
    expect(error.code).toBe("model_reply_error");
    expect(error.message).toContain('finish_reason "error"');
  });

  it("reads CRLF lines, comments, an event split across writes and `data: [DONE] ` with a trailing space", async () => {
    const fake = serve(fixtureReplies("sse-framing"));
    const { response, deltas } = await call(fake, true);
    expect(deltas).toEqual(["17*23", " = 391."]);
    expect(response).toMatchObject({ finishReason: "stop", id: "chatcmpl-Ws0001", usage: { inputTokens: 30, outputTokens: 8 } });
  });

  it("still fails a stream cut before any finish reason, usage or [DONE]", async () => {
    const fake = serve([reply.cut(reply.text("one two three"), 2), reply.cut(reply.text("one two three"), 2)]);
    const error = await failure(call(fake, true, question, { retries: 0 }));
    expect(error.code).toBe("model_stream_cut");
  });

  it("gives DeepSeek a reasoning_content on every assistant message, even history written elsewhere", async () => {
    const history: Message[] = [
      ...question,
      { role: "assistant", content: null, tool_calls: [{ id: "c1", name: "calc", arguments: "" }] },
      { role: "tool", tool_call_id: "c1", content: "391" },
    ];
    const fake = serve([reply.text("391"), reply.text("391")]);
    await call(fake, false, history, { providerName: "deepseek" });
    expect(sentAssistant(fake, 0)).toMatchObject({ reasoning_content: "", tool_calls: [{ function: { arguments: "{}" } }] });
    await call(fake, false, history);
    expect(sentAssistant(fake, 1)).not.toHaveProperty("reasoning_content");
  });

  it("quotes the provider's reason for a 400 instead of guessing at the model name", async () => {
    const message = "Missing `reasoning_content` field in the assistant message at message index 2.";
    const fake = serve([reply.error(400, { message, errorType: "invalid_request_error", code: "invalid_request_error" })]);
    const error = await failure(call(fake, false));
    expect(error.message).toContain(message);
    expect(error.message).toContain("for the reason it gave");
    expect(error.message).not.toContain("check the model name");
  });

  it("reads a reply to a streaming request that came back as one JSON body", async () => {
    const [whole] = fixtureReplies("legacy-function-call").slice(1);
    const fake = serve([reply.raw({ json: (whole as { json: unknown }).json })]);
    const { response, deltas } = await call(fake, true);
    expect(deltas).toEqual(["17*23 = 391."]);
    expect(response.message).toEqual({ role: "assistant", content: "17*23 = 391." } satisfies AssistantMessage);
  });

  it("reads SSE sent under a JSON content type, as the SDK did", async () => {
    const chunk = { id: "x1", choices: [{ index: 0, delta: { content: "391" }, finish_reason: "stop" }] };
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`, { headers: { "content-type": "application/json" } }),
    });
    try {
      const model = createOpenAIModel({ model: "m", baseURL: `http://127.0.0.1:${server.port}/v1`, llmTimeoutMs: 10_000, retries: 0, maxRetryWaitMs: 1000 });
      const deltas: string[] = [];
      const response = await model.complete({ messages: question, tools: [], signal: new AbortController().signal, onDelta: (t) => deltas.push(t) });
      expect(deltas).toEqual(["391"]);
      expect(response).toMatchObject({ id: "x1", finishReason: "stop" });
    } finally {
      await server.stop(true);
    }
  });

  it("refuses Azure's content-filtered prompt (400 content_filter) at once with its own code", async () => {
    const fake = serve([reply.error(400, { message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.", code: "content_filter" })]);
    const error = await failure(call(fake, false));
    expect(fake.chatRequests()).toHaveLength(1);
    expect(error.code).toBe("model_content_filter");
    expect(error.message).toContain("content filter");
  });
});
