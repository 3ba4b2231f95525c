import { afterEach, describe, expect, it } from "bun:test";
import { ConfigError, ModelError } from "../../src/errors.ts";
import type { Message } from "../../src/model/messages.ts";
import type { ModelRequest, ModelResponse, ToolSpec } from "../../src/model/model.ts";
import { createOpenAIModel, type OpenAIModelOptions } from "../../src/model/openai.ts";
import type { ChatSpanFactory, ChatSpanInfo } from "../../src/telemetry/tracer.ts";
import { sleep as realSleep } from "../../src/util/abort.ts";
import { createFakeOpenAIs, type FakeOpenAI, type FakeScript, reply, startFakeOpenAI } from "../fakes/fake-openai-server.ts";
import { rejectionOf } from "../helpers/rejection.ts";

const apiKey = "sk-test-secret-key-0123456789";
const question: Message[] = [{ role: "user", content: "What time is it in Paris?" }];
const timeTool: ToolSpec = {
  name: "time",
  description: "Current time in a zone",
  parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] },
};

const { start: serve, stopAll: stopFakes } = createFakeOpenAIs();
afterEach(async () => {
  await stopFakes();
});

/** A model against `fake`, with retry waits recorded and skipped unless a test wants real time. */
function modelFor(fake: FakeOpenAI, overrides: Partial<OpenAIModelOptions> = {}) {
  const waits: number[] = [];
  const model = createOpenAIModel({
    model: "gpt-test",
    baseURL: fake.url,
    apiKey,
    llmTimeoutMs: 5000,
    retries: 2,
    maxRetryWaitMs: 30_000,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...overrides,
  });
  return { model, waits };
}

/** A script whose every chat request hangs; `arrived` resolves once the first has reached the server. */
function hangingScript(): { readonly script: FakeScript; readonly arrived: Promise<void> } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return {
    script: () => {
      resolve();
      return reply.hang();
    },
    arrived: promise,
  };
}

function ask(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return { messages: question, tools: [], signal: new AbortController().signal, ...overrides };
}

/** The ModelError `promise` rejected with. */
const failure = (promise: Promise<unknown>): Promise<ModelError> => rejectionOf(promise, ModelError);

interface RecordedSpan {
  readonly info: ChatSpanInfo;
  readonly events: { name: string; attributes: Readonly<Record<string, string | number | boolean>> | undefined }[];
  outcome?: { ended: ModelResponse } | { failed: unknown };
}

function recordingSpans(): { factory: ChatSpanFactory; spans: RecordedSpan[] } {
  const spans: RecordedSpan[] = [];
  const factory: ChatSpanFactory = {
    startChat(info) {
      const span: RecordedSpan = { info, events: [] };
      spans.push(span);
      return {
        end: (response) => void (span.outcome = { ended: response }),
        fail: (error) => void (span.outcome = { failed: error }),
        event: (name, attributes) => void span.events.push({ name, attributes }),
      };
    },
  };
  return { factory, spans };
}

describe("createOpenAIModel", () => {
  it("returns a text answer with usage, id and model, from one request with the key", async () => {
    const fake = serve([
      reply.text("It is noon.", {
        usage: { prompt_tokens: 20, completion_tokens: 4, cached_tokens: 8, reasoning_tokens: 2 },
        model: "gpt-test-2025",
      }),
    ]);
    const { model } = modelFor(fake);

    const response = await model.complete(ask());

    expect(response).toEqual({
      message: { role: "assistant", content: "It is noon." },
      usage: { inputTokens: 20, outputTokens: 4, cachedInputTokens: 8, reasoningTokens: 2 },
      finishReason: "stop",
      id: "chatcmpl-fake-1",
      model: "gpt-test-2025",
      provider: "openai",
    });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(request?.body).toMatchObject({ model: "gpt-test", messages: question });
    expect(request?.body).not.toHaveProperty("tools");
    expect(request?.stream).toBe(false);
  });

  it("sends no Authorization header when no key is configured", async () => {
    const fake = serve([reply.text("hi")]);
    const { model } = modelFor(fake, { apiKey: undefined });
    await model.complete(ask());
    expect(fake.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("names the provider openai on api.openai.com and as configured elsewhere", () => {
    const base = { model: "m", llmTimeoutMs: 1000, retries: 0, maxRetryWaitMs: 1000 };
    expect(createOpenAIModel({ ...base, baseURL: "https://api.openai.com/v1", providerName: "x" }).provider).toBe("openai");
    expect(createOpenAIModel({ ...base, baseURL: "http://127.0.0.1:11434/v1", providerName: "ollama" }).provider).toBe("ollama");
    expect(createOpenAIModel({ ...base, baseURL: "http://127.0.0.1:11434/v1" }).provider).toBe("openai");
  });

  it("round-trips tool calls: flat calls out, the SDK wire shape back in", async () => {
    const fake = serve([
      reply.toolCalls([
        { id: "call_a", name: "time", arguments: '{"zone":"Europe/Paris"}' },
        { id: "call_b", name: "time", arguments: '{"zone":"Asia/Tokyo"}' },
      ]),
      reply.text("Noon in Paris, 8 pm in Tokyo."),
    ]);
    const { model } = modelFor(fake);

    const first = await model.complete(ask({ tools: [timeTool] }));
    expect(first.finishReason).toBe("tool_calls");
    expect(first.message).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_a", name: "time", arguments: '{"zone":"Europe/Paris"}' },
        { id: "call_b", name: "time", arguments: '{"zone":"Asia/Tokyo"}' },
      ],
    });

    const followUp: Message[] = [
      ...question,
      first.message,
      { role: "tool", tool_call_id: "call_a", content: "12:00" },
      { role: "tool", tool_call_id: "call_b", content: "20:00" },
    ];
    const second = await model.complete(ask({ messages: followUp, tools: [timeTool] }));
    expect(second.message.content).toBe("Noon in Paris, 8 pm in Tokyo.");

    expect(fake.requests[0]?.body?.tools).toEqual([
      { type: "function", function: { name: "time", description: timeTool.description, parameters: timeTool.parameters } },
    ]);
    expect(fake.requests[1]?.body?.messages).toEqual([
      { role: "user", content: "What time is it in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "time", arguments: '{"zone":"Europe/Paris"}' } },
          { id: "call_b", type: "function", function: { name: "time", arguments: '{"zone":"Asia/Tokyo"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_a", content: "12:00" },
      { role: "tool", tool_call_id: "call_b", content: "20:00" },
    ]);
  });

  it("streams text deltas in order and asks for usage in the stream", async () => {
    const fake = serve([reply.text(["It ", "is ", "noon", "."], { usage: { prompt_tokens: 9, completion_tokens: 4 } })]);
    const { model } = modelFor(fake);
    const deltas: string[] = [];

    const response = await model.complete(ask({ onDelta: (text) => deltas.push(text) }));

    expect(deltas).toEqual(["It ", "is ", "noon", "."]);
    expect(response.message).toEqual({ role: "assistant", content: "It is noon." });
    expect(response.usage).toEqual({ inputTokens: 9, outputTokens: 4, cachedInputTokens: 0, reasoningTokens: 0 });
    expect(response.finishReason).toBe("stop");
    expect(fake.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("assembles streamed tool-call fragments into whole calls", async () => {
    const fake = serve([
      reply.toolCalls([
        { id: "call_1", name: "time", arguments: '{"zone":"Europe/Paris"}' },
        { id: "call_2", name: "calc", arguments: '{"expression":"6*7"}' },
      ]),
    ]);
    const { model } = modelFor(fake);
    const deltas: string[] = [];

    const response = await model.complete(ask({ tools: [timeTool], onDelta: (text) => deltas.push(text) }));

    expect(deltas).toEqual([]);
    expect(response.finishReason).toBe("tool_calls");
    expect(response.message.tool_calls).toEqual([
      { id: "call_1", name: "time", arguments: '{"zone":"Europe/Paris"}' },
      { id: "call_2", name: "calc", arguments: '{"expression":"6*7"}' },
    ]);
  });

  it("makes exactly retries + 1 requests on 500 (the SDK adds none)", async () => {
    const fake = serve(() => reply.error(500, { message: "upstream exploded" }));
    const { model, waits } = modelFor(fake, { retries: 3 });

    const error = await failure(model.complete(ask()));

    expect(fake.requests).toHaveLength(4);
    expect(waits).toHaveLength(3);
    expect(error.code).toBe("model_http_500");
    expect(error.status).toBe(500);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(`127.0.0.1:${fake.port}`);
    expect(error.message).toContain("HTTP 500");
    expect(error.message).toContain("upstream exploded");
    expect(error.message).toContain("4 attempts");
  });

  it("waits for a real Retry-After: 1 on 429, then succeeds", async () => {
    const fake = serve([reply.rateLimited(1), reply.text("finally")]);
    const waits: number[] = [];
    const { model } = modelFor(fake, {
      sleep: (ms, signal) => {
        waits.push(ms);
        return realSleep(ms, signal);
      },
    });

    const response = await model.complete(ask());

    expect(response.message.content).toBe("finally");
    expect(fake.requests).toHaveLength(2);
    expect(waits).toEqual([1000]);
    const gap = (fake.requests[1]?.at ?? 0) - (fake.requests[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(950);
  });

  it("fails at once when Retry-After is above maxRetryWaitMs, saying so and quoting the provider", async () => {
    const fake = serve([reply.rateLimited(3600), reply.text("never")]);
    const { model, waits } = modelFor(fake, { maxRetryWaitMs: 30_000 });

    const error = await failure(model.complete(ask()));

    expect(fake.requests).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(error.code).toBe("model_http_429");
    expect(error.retryAfterMs).toBe(3_600_000);
    expect(error.message).toContain("Rate limit reached for requests");
    expect(error.message).toContain("wait 1h");
    expect(error.message).toContain("max_retry_wait (30s)");
  });

  it("fails at once when the retry wait would pass the run's deadline", async () => {
    const fake = serve([reply.rateLimited(5), reply.text("never")]);
    const { model } = modelFor(fake);

    const error = await failure(model.complete(ask({ deadline: Date.now() + 2000 })));

    expect(fake.requests).toHaveLength(1);
    expect(error.message).toContain("deadline");
  });

  it("does not retry 400", async () => {
    const fake = serve(() => reply.error(400, { message: "Invalid value for 'model'" }));
    const { model } = modelFor(fake);

    const error = await failure(model.complete(ask()));

    expect(fake.requests).toHaveLength(1);
    expect(error.code).toBe("model_http_400");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("Invalid value for 'model'");
  });

  it("does not retry 401, points at the key setting and never shows the key", async () => {
    const fake = serve(() => reply.error(401, { message: `Incorrect API key provided: ${apiKey}.`, code: "invalid_api_key" }));
    const { model } = modelFor(fake);

    const error = await failure(model.complete(ask()));

    expect(fake.requests).toHaveLength(1);
    expect(error.code).toBe("model_http_401");
    expect(error.message).toContain("Check OPENAI_API_KEY / api_key_file");
    expect(error.message).not.toContain(apiKey);
    expect(error.message).not.toContain("0123456789");
  });

  it("does not retry a 429 that says the quota is exhausted", async () => {
    const fake = serve(() => reply.quotaExhausted());
    const { model } = modelFor(fake);

    const error = await failure(model.complete(ask()));

    expect(fake.requests).toHaveLength(1);
    expect(error.code).toBe("model_quota_exhausted");
    expect(error.status).toBe(429);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("exceeded your current quota");
  });

  it("retries an unreadable 200 body like a 5xx", async () => {
    const fake = serve([reply.garbage(), reply.text("clean")]);
    const { model } = modelFor(fake);

    const response = await model.complete(ask());

    expect(response.message.content).toBe("clean");
    expect(fake.requests).toHaveLength(2);
  });

  it("reports model_bad_response when every 200 is unreadable", async () => {
    const fake = serve(() => reply.garbage('{"not":"a completion"}'));
    const { model } = modelFor(fake, { retries: 1 });

    const error = await failure(model.complete(ask()));

    expect(fake.requests).toHaveLength(2);
    expect(error.code).toBe("model_bad_response");
  });

  it("times out a hanging server after llmTimeoutMs, retries, then fails with model_timeout", async () => {
    const fake = serve(() => reply.hang());
    const { model } = modelFor(fake, { llmTimeoutMs: 200, retries: 1 });

    const started = performance.now();
    const error = await failure(model.complete(ask()));
    const elapsed = performance.now() - started;

    expect(fake.requests).toHaveLength(2);
    expect(error.code).toBe("model_timeout");
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("200ms");
    // Each attempt waited its full 200 ms (a bound the clock cannot undercut, however busy).
    expect(elapsed).toBeGreaterThanOrEqual(390);
  });

  it("times out a stream that goes silent before any text", async () => {
    const fake = serve(() => reply.hang());
    const { model } = modelFor(fake, { llmTimeoutMs: 150, retries: 0 });

    const error = await failure(model.complete(ask({ onDelta: () => {} })));

    expect(error.code).toBe("model_timeout");
  });

  it("times out a stream that goes silent after text, without retrying", async () => {
    const fake = serve([reply.cut(reply.text("one two three"), 2, "hang"), reply.text("never")]);
    const { model } = modelFor(fake, { llmTimeoutMs: 200 });
    const deltas: string[] = [];

    const error = await failure(model.complete(ask({ onDelta: (text) => deltas.push(text) })));

    expect(deltas).toEqual(["one"]);
    expect(fake.requests).toHaveLength(1);
    expect(error.code).toBe("model_timeout");
    expect(error.retryable).toBe(false);
  });

  it("keeps a slow but steady stream alive past llmTimeoutMs (the limit is per silence)", async () => {
    // 20 chunks 40 ms apart: 800 ms in all, twice the limit, while each silence stays ten times
    // shorter than it, so a busy machine's late timer cannot make one look like a stall.
    const words = Array.from({ length: 20 }, (_, i) => `w${i} `);
    const fake = serve([reply.text(words, { chunkDelayMs: 40 })]);
    const { model } = modelFor(fake, { llmTimeoutMs: 400 });

    const started = performance.now();
    const response = await model.complete(ask({ onDelta: () => {} }));

    expect(performance.now() - started).toBeGreaterThan(400);
    expect(response.message.content).toBe(words.join(""));
  });

  it("stops a hanging request when the signal aborts and rethrows the signal's reason", async () => {
    const hanging = hangingScript();
    const fake = serve(hanging.script);
    const { model } = modelFor(fake, { llmTimeoutMs: 60_000 });
    const controller = new AbortController();
    const reason = new Error("cancelled by the test");

    const settled = model.complete(ask({ signal: controller.signal })).then(
      () => undefined,
      (e: unknown) => e,
    );
    await hanging.arrived;
    controller.abort(reason);

    // The request would hang for a minute: settling at all means the abort stopped it.
    expect(await settled).toBe(reason);
    expect(fake.requests).toHaveLength(1);
  });

  it("settles on abort during a retry wait too, so the loop need not race it (settlesOnAbort)", async () => {
    const fake = serve([reply.rateLimited(20), reply.text("too late")]);
    const waiting = Promise.withResolvers<number>();
    // The real, abortable wait, entered once the 429 has come back.
    const { model } = modelFor(fake, {
      sleep: (ms, signal) => {
        waiting.resolve(ms);
        return realSleep(ms, signal);
      },
    });
    expect(model.settlesOnAbort).toBe(true);
    const controller = new AbortController();
    const reason = new Error("deadline");

    const settled = model.complete(ask({ signal: controller.signal })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(await waiting.promise).toBe(20_000);
    controller.abort(reason);

    // Settling inside the test's time limit means the 20 s wait was cut short.
    expect(await settled).toBe(reason);
    expect(fake.requests).toHaveLength(1);
  });

  it("stops a stream when the signal aborts and rethrows the signal's reason", async () => {
    const hanging = hangingScript();
    const fake = serve(hanging.script);
    const { model } = modelFor(fake);
    const controller = new AbortController();
    const reason = new Error("client went away");

    const settled = model.complete(ask({ signal: controller.signal, onDelta: () => {} })).then(
      () => undefined,
      (e: unknown) => e,
    );
    await hanging.arrived;
    controller.abort(reason);

    expect(await settled).toBe(reason);
  });

  it("retries a connection refused and then reports model_connection", async () => {
    const closed = startFakeOpenAI([]);
    await closed.stop();
    const { model, waits } = modelFor(closed, { retries: 2 });

    const error = await failure(model.complete(ask()));

    expect(waits).toHaveLength(2);
    expect(error.code).toBe("model_connection");
    expect(error.status).toBeUndefined();
    expect(error.message).toContain(`127.0.0.1:${closed.port}`);
    expect(error.message).toContain("is running");
  });

  it("retries a stream cut before any text was shown", async () => {
    const fake = serve([reply.cut(reply.text("lost words"), 1), reply.text("kept words")]);
    const { model } = modelFor(fake);
    const deltas: string[] = [];

    const response = await model.complete(ask({ onDelta: (text) => deltas.push(text) }));

    expect(fake.requests).toHaveLength(2);
    expect(deltas.join("")).toBe("kept words");
    expect(response.message.content).toBe("kept words");
  });

  it("retries a stream that turns to garbage before any text was shown", async () => {
    const fake = serve([reply.cut(reply.text("lost"), 1, "garbage"), reply.text("kept")]);
    const { model } = modelFor(fake);

    const response = await model.complete(ask({ onDelta: () => {} }));

    expect(fake.requests).toHaveLength(2);
    expect(response.message.content).toBe("kept");
  });

  it("does not retry a stream cut after text was shown", async () => {
    const fake = serve([reply.cut(reply.text("one two three four"), 3), reply.text("never")]);
    const { model } = modelFor(fake);
    const deltas: string[] = [];

    const error = await failure(model.complete(ask({ onDelta: (text) => deltas.push(text) })));

    expect(fake.requests).toHaveLength(1);
    expect(deltas).toEqual(["one", " two"]);
    expect(error.code).toBe("model_stream_cut");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("already shown");
  });

  it("lets an error thrown by onDelta through as it is, without retrying", async () => {
    const fake = serve([reply.text("a b c"), reply.text("never")]);
    const { model } = modelFor(fake);
    const bug = new Error("renderer broke");

    const error = await model
      .complete(
        ask({
          onDelta: () => {
            throw bug;
          },
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(error).toBe(bug);
    expect(fake.requests).toHaveLength(1);
  });

  it("refuses a base URL that is not http(s) with a ConfigError naming base_url", () => {
    const options = { model: "m", llmTimeoutMs: 1000, retries: 0, maxRetryWaitMs: 1000 };
    expect(() => createOpenAIModel({ ...options, baseURL: "localhost:11434" })).toThrow(ConfigError);
    expect(() => createOpenAIModel({ ...options, baseURL: "not a url" })).toThrow(/base_url/);
  });

  it("opens one chat span per attempt and records the retry wait on the failed one", async () => {
    const fake = serve([reply.error(503, { message: "overloaded" }), reply.text("ok")]);
    const { model } = modelFor(fake, { random: () => 0.5 });
    const { factory, spans } = recordingSpans();

    const response = await model.complete(ask({ tools: [timeTool], spans: factory }));

    expect(spans.map((span) => span.info.attempt)).toEqual([1, 2]);
    expect(spans[0]?.info).toMatchObject({
      model: "gpt-test",
      provider: "openai",
      serverAddress: "127.0.0.1",
      serverPort: fake.port,
      stream: false,
      messages: question,
      tools: [timeTool],
    });
    expect(spans[0]?.events).toEqual([{ name: "retry", attributes: { attempt: 1, wait_ms: 250, reason: "model_http_503" } }]);
    const first = spans[0]?.outcome;
    expect(first && "failed" in first && first.failed instanceof ModelError && first.failed.code).toBe("model_http_503");
    expect(spans[1]?.events).toEqual([]);
    expect(spans[1]?.outcome).toEqual({ ended: response });
  });

  it("fails the span with the signal's reason on abort", async () => {
    const hanging = hangingScript();
    const fake = serve(hanging.script);
    const { model } = modelFor(fake);
    const { factory, spans } = recordingSpans();
    const controller = new AbortController();
    const reason = new Error("stop");

    const settled = model.complete(ask({ signal: controller.signal, spans: factory })).catch(() => {});
    await hanging.arrived;
    controller.abort(reason);
    await settled;

    expect(spans).toHaveLength(1);
    expect(spans[0]?.outcome).toEqual({ failed: reason });
  });
});

describe("startFakeOpenAI", () => {
  it("lists models, enforces its key like OpenAI, and answers from a function script", async () => {
    const fake = serve((request, index) => reply.text(`#${index} for ${String(request.body?.model)}`), {
      apiKey: "sk-fake",
      models: ["a", "b"],
    });
    const auth = { authorization: "Bearer sk-fake" };

    const models = await fetch(`${fake.url}/models`, { headers: auth }).then((r) => r.json());
    const denied = await fetch(`${fake.url}/models`);
    const { model } = modelFor(fake, { apiKey: "sk-fake" });
    const answer = await model.complete(ask());

    expect(models).toEqual({
      object: "list",
      data: [
        { id: "a", object: "model", created: 0, owned_by: "fake" },
        { id: "b", object: "model", created: 0, owned_by: "fake" },
      ],
    });
    expect(denied.status).toBe(401);
    expect(answer.message.content).toBe("#0 for gpt-test");
    expect(fake.chatRequests()).toHaveLength(1);
    expect(fake.requests).toHaveLength(3);
  });

  it("answers 500 with a clear message when the script runs out", async () => {
    const fake = serve([]);
    const response = await fetch(`${fake.url}/chat/completions`, { method: "POST", body: "{}" });
    expect(response.status).toBe(500);
    expect(await response.text()).toContain("no scripted reply for chat request #1");
  });
});
