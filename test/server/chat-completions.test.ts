import { describe, expect, it } from "bun:test";
import OpenAI from "openai";
import { ModelError } from "../../src/errors.ts";
import { call, scriptedModel } from "../fakes/scripted-model.ts";
import { errorOf, parseSse, request, testApp, token } from "./helpers.ts";
import type { App } from "../../src/server/app.ts";

/** The OpenAI SDK, talking to the app in process through its `fetch` option. */
function client(app: App, apiKey = token): OpenAI {
  return new OpenAI({
    apiKey,
    baseURL: "http://skiff.test/v1",
    maxRetries: 0,
    // The SDK calls fetch with the URL as a string.
    fetch: (url: string | URL | Request, init?: RequestInit) => app.fetch(new Request(String(url), init)),
  });
}

describe("POST /v1/chat/completions", () => {
  it("answers an OpenAI SDK client as the model named skiff", async () => {
    const { app } = testApp();
    const completion = await client(app).chat.completions.create({
      model: "skiff",
      messages: [{ role: "user", content: "What is 17*23?" }],
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("skiff");
    expect(completion.id).toMatch(/^chatcmpl-run_/);
    expect(completion.choices[0]!.message.content).toBe("17*23 = 391.");
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
  });

  it("streams to an OpenAI SDK client, with usage when asked", async () => {
    const { app } = testApp();
    const stream = await client(app).chat.completions.create({
      model: "skiff",
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "What time is it in Paris?" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    const finishReasons: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices[0]) finishReasons.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toMatch(/^In Paris it is \d\d:\d\d on \w+day \(UTC\+0[12]:00\)\.$/);
    expect(finishReasons.at(-1)).toBe("stop");
    expect(finishReasons.slice(0, -1).every((r) => r === null)).toBe(true);
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it("separates the text of successive steps in a stream and ends with [DONE]", async () => {
    const model = scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "1+1" })] }, { text: "two" }]);
    const { app } = testApp({ model });
    const res = await app.fetch(request("POST", "/v1/chat/completions", { model: "skiff", messages: [{ role: "user", content: "1+1" }], stream: true }));
    const events = parseSse(await res.text());
    expect(events.at(-1)!.data).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as { choices: { delta: { content?: string; role?: string } }[] });
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("two");
  });

  it("reports a run that hit max_steps as finish_reason length", async () => {
    const model = scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "1+1" })] }]);
    const { app } = testApp({ model, limits: { maxSteps: 1 } });
    const completion = await client(app).chat.completions.create({ model: "skiff", messages: [{ role: "user", content: "loop" }] });
    expect(completion.choices[0]!.finish_reason).toBe("length");
    expect(completion.choices[0]!.message.content).toBe("");
  });

  it("gives OpenAI clients errors they understand", async () => {
    const { app } = testApp();
    const sdk = client(app);
    const wrongModel = await sdk.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(wrongModel).toBeInstanceOf(OpenAI.NotFoundError);
    expect((wrongModel as InstanceType<typeof OpenAI.NotFoundError>).message).toMatch(/"gpt-4o" does not exist here; this server has one model, "skiff"/);
    const withTools = await sdk.chat.completions
      .create({
        model: "skiff",
        messages: [{ role: "user", content: "hi" }],
        tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
      })
      .catch((e: unknown) => e);
    expect(withTools).toBeInstanceOf(OpenAI.BadRequestError);
    expect((withTools as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("tools");
    const badKey = await client(app, "not-the-token-at-all").chat.completions.create({ model: "skiff", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(badKey).toBeInstanceOf(OpenAI.AuthenticationError);
    const noMessages = await app.fetch(request("POST", "/v1/chat/completions", { model: "skiff", messages: [] }));
    expect(await errorOf(noMessages)).toMatchObject({ param: "messages", message: "messages: needs at least one message" });
  });

  it("surfaces a failure in the middle of a stream as an error the SDK raises", async () => {
    const model = scriptedModel([{ error: new ModelError("upstream is down", { status: 503, retryable: true }) }]);
    const { app } = testApp({ model });
    const stream = await client(app).chat.completions.create({ model: "skiff", messages: [{ role: "user", content: "hi" }], stream: true });
    const error = await (async () => {
      for await (const _ of stream) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/upstream is down/);
  });

  it("lists skiff as the only model", async () => {
    const { app } = testApp();
    const models = await client(app).models.list();
    expect(models.data.map((m) => m.id)).toEqual(["skiff"]);
    expect((await client(app).models.retrieve("skiff")).id).toBe("skiff");
  });
});
