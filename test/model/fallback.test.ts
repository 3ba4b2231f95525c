import { afterEach, describe, expect, it } from "bun:test";
import { ModelError } from "../../src/errors.ts";
import { createBreaker } from "../../src/model/breaker.ts";
import { createFallbackModel, shouldFallBack } from "../../src/model/fallback.ts";
import type { ModelRequest } from "../../src/model/model.ts";
import { createOpenAIModel } from "../../src/model/openai.ts";
import { createFakeOpenAIs, type FakeOpenAI, reply } from "../fakes/fake-openai-server.ts";

const { start: serve, stopAll: stopFakes } = createFakeOpenAIs();
afterEach(async () => {
  await stopFakes();
});

function model(fake: FakeOpenAI, name: string, provider: string) {
  return createOpenAIModel({ model: name, baseURL: fake.url, llmTimeoutMs: 2_000, retries: 0, maxRetryWaitMs: 1_000, providerName: provider });
}

function request(): ModelRequest {
  return { messages: [{ role: "user", content: "hi" }], tools: [], signal: new AbortController().signal };
}

describe("createFallbackModel", () => {
  it("tries providers in order on 5xx, 429 and connection errors, and says which one answered", async () => {
    const a = serve(() => reply.error(503));
    const b = serve(() => reply.rateLimited(1));
    const c = serve(() => reply.text("from c"));
    const chain = createFallbackModel(
      [
        { label: "a", model: model(a, "model-a", "prov-a") },
        { label: "b", model: model(b, "model-b", "prov-b") },
        { label: "c", model: model(c, "model-c", "prov-c") },
      ],
      { failures: 3, cooldownMs: 60_000 },
    );
    const response = await chain.complete(request());
    expect(response.message.content).toBe("from c");
    expect(response.provider).toBe("prov-c");
    expect(response.model).toBe("model-c");
    expect([a, b, c].map((s) => s.chatRequests().length)).toEqual([1, 1, 1]);
  });

  it("settles on abort when every provider does, so the loop races it only otherwise", () => {
    const a = serve(() => reply.text("a"));
    const openai = model(a, "m", "a");
    expect(createFallbackModel([{ label: "a", model: openai }, { label: "b", model: openai }], { failures: 3, cooldownMs: 1 }).settlesOnAbort).toBe(true);
    const unknown = { name: "x", provider: "x", complete: openai.complete };
    expect(createFallbackModel([{ label: "a", model: openai }, { label: "x", model: unknown }], { failures: 3, cooldownMs: 1 }).settlesOnAbort).toBe(false);
  });

  it("never falls back on other 4xx: a bad request would fail anywhere", async () => {
    const a = serve(() => reply.error(400, { message: "bad field" }));
    const b = serve(() => reply.text("unused"));
    const chain = createFallbackModel([{ label: "a", model: model(a, "m", "a") }, { label: "b", model: model(b, "m", "b") }], {
      failures: 3,
      cooldownMs: 60_000,
    });
    const error = await chain.complete(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).status).toBe(400);
    expect(b.chatRequests()).toHaveLength(0);
    expect(chain.status()[0]!.state).toBe("closed");
  });

  it("opens the breaker after the threshold, sends the failing provider nothing during the cool-down, probes it after, closes on success", async () => {
    let now = 1_000_000;
    let primaryHealthy = false;
    const a = serve(() => (primaryHealthy ? reply.text("a is back") : reply.error(500)));
    const b = serve(() => reply.text("from b"));
    const changes: string[] = [];
    const chain = createFallbackModel([{ label: "a", model: model(a, "m", "a") }, { label: "b", model: model(b, "m", "b") }], {
      failures: 2,
      cooldownMs: 30_000,
      now: () => now,
      onBreakerChange: (label, state) => changes.push(`${label}:${state}`),
    });
    for (let i = 0; i < 2; i++) expect((await chain.complete(request())).message.content).toBe("from b");
    expect(a.chatRequests()).toHaveLength(2);
    expect(chain.status()[0]).toEqual({ label: "a", state: "open", consecutiveFailures: 2 });

    // Cool-down: a gets nothing.
    for (let i = 0; i < 3; i++) await chain.complete(request());
    expect(a.chatRequests()).toHaveLength(2);

    // After the cool-down one request probes a; it fails, so a opens again.
    now += 30_000;
    expect(chain.status()[0]!.state).toBe("half_open");
    await chain.complete(request());
    expect(a.chatRequests()).toHaveLength(3);
    expect(chain.status()[0]!.state).toBe("open");

    // Next cool-down ends and a has recovered: the probe succeeds and closes the circuit.
    now += 30_000;
    primaryHealthy = true;
    expect((await chain.complete(request())).message.content).toBe("a is back");
    expect(chain.status()[0]!.state).toBe("closed");
    expect(changes).toEqual(["a:open", "a:half_open", "a:open", "a:half_open", "a:closed"]);
  });

  it("fails with every provider's reason when all fail", async () => {
    const a = serve(() => reply.error(500, { message: "a down" }));
    const b = serve(() => reply.error(502, { message: "b down" }));
    const chain = createFallbackModel([{ label: "a", model: model(a, "m", "a") }, { label: "b", model: model(b, "m", "b") }], {
      failures: 5,
      cooldownMs: 1_000,
    });
    const error = (await chain.complete(request()).catch((e: unknown) => e)) as ModelError;
    expect(error.code).toBe("model_all_providers_failed");
    expect(error.message).toContain("a: ");
    expect(error.message).toContain("a down");
    expect(error.message).toContain("b down");
  });
});

describe("createBreaker", () => {
  it("lets exactly one probe through while half-open", () => {
    let now = 0;
    const breaker = createBreaker({ failures: 1, cooldownMs: 100, now: () => now });
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.tryAcquire()).toBe(false);
    now = 100;
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.success();
    expect(breaker.tryAcquire()).toBe(true);
  });
});

describe("shouldFallBack", () => {
  it("moves on for 429, 5xx and retryable status-less errors only", () => {
    expect(shouldFallBack(new ModelError("x", { status: 429, retryable: false }))).toBe(true);
    expect(shouldFallBack(new ModelError("x", { status: 503, retryable: true }))).toBe(true);
    expect(shouldFallBack(new ModelError("x", { status: 404, retryable: false }))).toBe(false);
    expect(shouldFallBack(new ModelError("x", { retryable: true, code: "model_connection" }))).toBe(true);
    expect(shouldFallBack(new ModelError("x", { retryable: false, code: "model_stream_cut" }))).toBe(false);
    expect(shouldFallBack(new Error("bug"))).toBe(false);
  });
});
