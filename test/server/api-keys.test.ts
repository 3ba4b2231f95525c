/**
 * `[[server.keys]]` in the app, in process: each key authenticates, is held to its own limits
 * (requests per minute, runs in flight, tokens and cost per UTC day), gets only its tools, is
 * counted in /metrics by name, and is refused once removed. The clock is injected, so minutes
 * and days turn when the test says.
 */
import { describe, expect, it } from "bun:test";
import type { ApiKeyEntry } from "../../src/config/sections/api-keys.ts";
import { hashApiKey } from "../../src/server/api-key.ts";
import { type KeyUsageStore, UsageStoreError } from "../../src/usage/usage-store.ts";
import { call, latch, type ScriptedReply, scriptedModel } from "../fakes/scripted-model.ts";
import { errorOf, request, testApp, type TestAppOptions, token } from "./helpers.ts";

const alphaKey = "skiff_alpha-key-0123456789abcdefghijklmnopqrstuvw";
const betaKey = "skiff_beta-key-0123456789abcdefghijklmnopqrstuvwx";

function entry(name: string, key: string, limits: Partial<ApiKeyEntry> = {}): ApiKeyEntry {
  return { name, hash: hashApiKey(key), admin: false, ...limits } as ApiKeyEntry;
}

/** A clock the test moves: starts at 2026-03-10 23:59:30 UTC, 30 s before a minute and a day turn. */
function clock() {
  let now = Date.UTC(2026, 2, 10, 23, 59, 30);
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function keyedApp(keys: readonly ApiKeyEntry[], options: TestAppOptions & { script?: readonly ScriptedReply[]; now?: () => number } = {}) {
  const model = options.model ?? scriptedModel(options.script ?? Array.from({ length: 50 }, () => ({ text: "ok" })));
  return testApp({ ...options, model, extra: { apiKeys: keys, ...(options.now ? { now: options.now } : {}), ...options.extra } });
}

const run = (key: string, body: Record<string, unknown> = { input: "hi" }) =>
  request("POST", "/v1/runs", body, { auth: false, headers: { authorization: `Bearer ${key}` } });
const get = (key: string, path: string) => request("GET", path, undefined, { auth: false, headers: { authorization: `Bearer ${key}` } });

describe("API keys: authentication", () => {
  it("lets a configured key in, names it in the log line, and never logs the key", async () => {
    const { app, logs, logged } = keyedApp([entry("alpha", alphaKey)]);
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
    await logged(1);
    expect(logs[0]).toMatchObject({ msg: "request", route: "/v1/runs", status: 200, key: "alpha" });
    expect(JSON.stringify(logs)).not.toContain(alphaKey);
  });

  it("answers 401 to an unknown key, and keeps the single token working beside the keys", async () => {
    const { app } = keyedApp([entry("alpha", alphaKey)]);
    const refused = await app.fetch(run("skiff_not-a-key-0123456789abcdefghijklmnop"));
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="skiff"');
    const body = await errorOf(refused);
    expect(body.type).toBe("authentication_error");
    expect(body.message).not.toContain("skiff_not-a-key");
    expect((await app.fetch(request("POST", "/v1/runs", { input: "hi" }))).status).toBe(200);
  });

  it("requires a credential once keys exist, even without a single token", async () => {
    const { app } = keyedApp([entry("alpha", alphaKey)], { authToken: null });
    expect((await app.fetch(request("POST", "/v1/runs", { input: "hi" }, { auth: false }))).status).toBe(401);
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
    expect((await app.fetch(request("GET", "/healthz", undefined, { auth: false }))).status).toBe(200);
  });

  it("refuses a key removed by a reload, at once, and leaves the other keys working", async () => {
    const { app } = keyedApp([entry("alpha", alphaKey), entry("beta", betaKey)]);
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
    app.keys.replace({ keys: [entry("beta", betaKey)], token });
    expect((await app.fetch(run(alphaKey))).status).toBe(401);
    expect((await app.fetch(run(betaKey))).status).toBe(200);
  });

  it("stops a removed key's run in flight before its next model call, with 401 and what it did", async () => {
    const toolGate = latch();
    const model = scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "2+2" })], until: toolGate.promise }, { text: "4" }]);
    const { app } = keyedApp([entry("alpha", alphaKey)], { model });
    const pending = app.fetch(run(alphaKey));
    await model.started(1);
    app.keys.replace({ keys: [], token });
    toolGate.open();
    const response = await pending;
    expect(response.status).toBe(401);
    const body = await errorOf(response);
    expect(body.message).toContain('key "alpha" was removed');
    expect((body.body["partial"] as { steps: unknown[] }).steps).toHaveLength(2);
    expect(model.requests).toHaveLength(1);
  });
});

describe("API keys: limits", () => {
  it("refuses requests over requests_per_minute with 429, Retry-After until the minute turns, and the limit named", async () => {
    const time = clock();
    const { app } = keyedApp([entry("alpha", alphaKey, { requests_per_minute: 2 }), entry("beta", betaKey)], { now: time.now });
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
    const refused = await app.fetch(run(alphaKey));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("30");
    const body = await errorOf(refused);
    expect(body).toMatchObject({ type: "rate_limit_error", param: "requests_per_minute" });
    expect(body.message).toContain('key "alpha" has sent 2 requests this minute');
    expect((await app.fetch(run(betaKey))).status).toBe(200);
    // GETs do not count: a client may watch its runs while it waits.
    expect((await app.fetch(get(alphaKey, "/v1/tools"))).status).toBe(200);
    time.advance(30_000);
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
  });

  it("refuses a run over max_concurrent with 429 while another of the key's runs is in flight", async () => {
    const gate = latch();
    const model = scriptedModel([{ text: "slow", until: gate.promise }, { text: "b" }, { text: "after" }]);
    const { app } = keyedApp([entry("alpha", alphaKey, { max_concurrent: 1 }), entry("beta", betaKey)], { model });
    const first = app.fetch(run(alphaKey));
    await model.started(1);
    const refused = await app.fetch(run(alphaKey));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((await errorOf(refused)).param).toBe("max_concurrent");
    expect((await app.fetch(run(betaKey))).status).toBe(200);
    gate.open();
    expect((await first).status).toBe(200);
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
  });

  it("counts tokens_per_day per UTC day: refuses with Retry-After until midnight once spent, and lets the key in the next day", async () => {
    const time = clock();
    const script = Array.from({ length: 10 }, () => ({ text: "ok", usage: { inputTokens: 40, outputTokens: 20 } }));
    const { app } = keyedApp([entry("alpha", alphaKey, { tokens_per_day: 100 }), entry("beta", betaKey)], { script, now: time.now });
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
    // 60 of 100 used: the next run starts, and may end over the budget (a call's size is known only after it).
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
    const refused = await app.fetch(run(alphaKey));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("30");
    const body = await errorOf(refused);
    expect(body.param).toBe("tokens_per_day");
    expect(body.message).toBe('key "alpha" has used its tokens_per_day (100 tokens; 120 used today, UTC); it resets at 00:00 UTC, in 30s');
    expect((await app.fetch(run(betaKey))).status).toBe(200);
    time.advance(30_000);
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
  });

  it("stops a run whose key spends its daily budget mid-run before the next model call, with 429 and what it did", async () => {
    const script: ScriptedReply[] = [
      { toolCalls: [call("c1", "calc", { expression: "1+1" })], usage: { inputTokens: 80, outputTokens: 30 } },
      { text: "never asked" },
    ];
    const { app } = keyedApp([entry("alpha", alphaKey, { tokens_per_day: 100 })], { script });
    const response = await app.fetch(run(alphaKey));
    expect(response.status).toBe(429);
    const body = await errorOf(response);
    expect(body.param).toBe("tokens_per_day");
    const partial = body.body["partial"] as { steps: { tool_calls: { output: string }[] }[]; usage: { input_tokens: number } };
    expect(partial.steps[0]!.tool_calls[0]!.output).toContain('"result":2');
    expect(partial.usage.input_tokens).toBe(80);
  });

  it("prices calls for cost_per_day from the price function", async () => {
    const script = Array.from({ length: 5 }, () => ({ text: "ok", usage: { inputTokens: 1_000_000, outputTokens: 0 } }));
    const price = (_model: string, usage: { inputTokens: number }) => usage.inputTokens / 1_000_000;
    const { app } = keyedApp([entry("alpha", alphaKey, { cost_per_day: 1.5 })], { script, extra: { price } });
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
    const refused = await app.fetch(run(alphaKey));
    expect(refused.status).toBe(429);
    expect(await errorOf(refused)).toMatchObject({ param: "cost_per_day" });
  });
});

describe("API keys: a usage store that fails", () => {
  const failing: KeyUsageStore = {
    description: "failing",
    countRequest: async () => Promise.reject(new UsageStoreError("down")),
    add: async () => Promise.reject(new UsageStoreError("down")),
    day: async () => Promise.reject(new UsageStoreError("down")),
    list: async () => Promise.reject(new UsageStoreError("down")),
    close: async () => {},
  };

  it("refuses a key with a budget with 503 (a budget that cannot be read has no room), and lets a key without limits run, logging what was not counted", async () => {
    const { app, logs, logged } = keyedApp([entry("budgeted", alphaKey, { tokens_per_day: 100 }), entry("open", betaKey)], { extra: { usageStore: failing } });
    const refused = await app.fetch(run(alphaKey));
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect((await errorOf(refused)).message).toBe("the usage store failed or did not answer in time while checking this key's limits (see the server log); the run did not start; retry in a moment");
    expect((await app.fetch(run(betaKey))).status).toBe(200);
    await logged(4);
    expect(logs.filter((line) => line["level"] === "warn").map((line) => [line["msg"], line["key"], line["error_code"]])).toEqual([
      ["could not count a run in its key's usage", "open", "usage_store"],
      ["could not count a model call in its key's usage", "open", "usage_store"],
    ]);
  });
});

describe("API keys: tools", () => {
  it("offers a key with tools = [] no tools, and one with a list only those, in runs and in GET /v1/tools", async () => {
    const model = scriptedModel([{ text: "a" }, { text: "b" }, { text: "c" }]);
    const { app } = keyedApp([entry("none", alphaKey, { tools: [] }), entry("calc", betaKey, { tools: ["calc"] })], { model });
    expect((await app.fetch(run(alphaKey))).status).toBe(200);
    expect((await app.fetch(run(betaKey))).status).toBe(200);
    expect((await app.fetch(request("POST", "/v1/runs", { input: "hi" }))).status).toBe(200);
    expect(model.requests.map((r) => r.tools.map((tool) => tool.name))).toEqual([[], ["calc"], ["time", "calc"]]);
    const listed = (await (await app.fetch(get(betaKey, "/v1/tools"))).json()) as { tools: { name: string }[] };
    expect(listed.tools.map((tool) => tool.name)).toEqual(["calc"]);
  });

  it("answers a call of a tool outside the key's list as a tool that does not exist, naming only the key's tools", async () => {
    const model = scriptedModel([{ toolCalls: [call("c1", "time", {})] }, { text: "done" }]);
    const { app } = keyedApp([entry("calc", betaKey, { tools: ["calc"] })], { model });
    const body = (await (await app.fetch(run(betaKey))).json()) as { steps: { tool_calls: { ok: boolean; output: string }[] }[] };
    expect(body.steps[0]!.tool_calls[0]!.ok).toBe(false);
    expect(body.steps[0]!.tool_calls[0]!.output).toBe('error: there is no tool named "time". Available tools: calc. Call one of those by its exact name.');
  });
});

describe("API keys: /metrics", () => {
  it("labels run and token counters with the key's name, and leaves runs without a key unlabelled", async () => {
    const { app } = keyedApp([entry("alpha", alphaKey)]);
    await app.fetch(run(alphaKey));
    await app.fetch(request("POST", "/v1/runs", { input: "hi" }));
    const text = await (await app.fetch(request("GET", "/metrics", undefined, { auth: false }))).text();
    expect(text).toContain('skiff_runs_total{key="alpha",outcome="completed"} 1');
    expect(text).toContain('skiff_runs_total{outcome="completed"} 1');
    expect(text).toContain('skiff_tokens_total{key="alpha",type="input"} 10');
    expect(text).not.toContain(alphaKey);
  });
});
