/**
 * GET /v1/usage in process: a key sees its own runs, tokens and cost by UTC day; an admin key and
 * the single token see every key's, removed keys included. Background runs of a key are counted
 * and get the key's tools wherever they execute.
 */
import { describe, expect, it } from "bun:test";
import type { ApiKeyEntry } from "../../src/config/sections/api-keys.ts";
import { hashApiKey } from "../../src/server/api-key.ts";
import { scriptedModel } from "../fakes/scripted-model.ts";
import { errorOf, readSse, request, testApp, token } from "./helpers.ts";

const keys = { alpha: "skiff_alpha-usage-0123456789abcdefghijklmnopq", beta: "skiff_beta-usage-0123456789abcdefghijklmnopqr", root: "skiff_root-usage-0123456789abcdefghijklmnopqr" };

function entry(name: keyof typeof keys, limits: Partial<ApiKeyEntry> = {}): ApiKeyEntry {
  return { name, hash: hashApiKey(keys[name]), admin: false, ...limits } as ApiKeyEntry;
}

const as = (name: keyof typeof keys | "token", method: string, path: string, body?: unknown) =>
  request(method, path, body, { auth: false, headers: { authorization: `Bearer ${name === "token" ? token : keys[name]}` } });

interface UsageJson {
  today: string;
  from: string;
  to: string;
  keys: { key: string; configured: boolean; limits: Record<string, unknown> | null; days: { day: string; runs: number; input_tokens: number; output_tokens: number; cost_usd: number | null }[] }[];
}

function usageApp(now: { value: number }) {
  const model = scriptedModel(Array.from({ length: 20 }, () => ({ text: "ok", usage: { inputTokens: 7, outputTokens: 3 } })));
  const price = (_model: string, usage: { inputTokens: number; outputTokens: number }) => (usage.inputTokens + usage.outputTokens) / 1000;
  return testApp({
    model,
    extra: { apiKeys: [entry("alpha", { tokens_per_day: 1000 }), entry("beta"), entry("root", { admin: true })], now: () => now.value, price },
  });
}

describe("GET /v1/usage", () => {
  it("shows a key its own runs, tokens and cost per UTC day, today first, with its limits", async () => {
    const now = { value: Date.UTC(2026, 4, 1, 23, 0) };
    const { app } = usageApp(now);
    await app.fetch(as("alpha", "POST", "/v1/runs", { input: "a" }));
    now.value += 2 * 3_600_000; // 01:00 the next day
    await app.fetch(as("alpha", "POST", "/v1/runs", { input: "b" }));
    await app.fetch(as("alpha", "POST", "/v1/runs", { input: "c" }));
    await app.fetch(as("beta", "POST", "/v1/runs", { input: "d" }));

    const response = await app.fetch(as("alpha", "GET", "/v1/usage"));
    expect(response.status).toBe(200);
    const usage = (await response.json()) as UsageJson;
    expect(usage).toMatchObject({ today: "2026-05-02", from: "2026-04-26", to: "2026-05-02" });
    expect(usage.keys).toEqual([
      {
        key: "alpha",
        configured: true,
        limits: { requests_per_minute: null, max_concurrent: null, tokens_per_day: 1000, cost_per_day: null, tools: null, admin: false },
        days: [
          { day: "2026-05-02", runs: 2, input_tokens: 14, output_tokens: 6, cost_usd: 0.02 },
          { day: "2026-05-01", runs: 1, input_tokens: 7, output_tokens: 3, cost_usd: 0.01 },
        ],
      },
    ]);
    const other = await app.fetch(as("alpha", "GET", "/v1/usage?key=beta"));
    expect(other.status).toBe(403);
    expect(await errorOf(other)).toMatchObject({ type: "permission_error", param: "key" });
  });

  it("shows an admin key and the single token every key, removed ones included, and today at zero for a key without runs", async () => {
    const now = { value: Date.UTC(2026, 4, 2, 12, 0) };
    const { app } = usageApp(now);
    await app.fetch(as("beta", "POST", "/v1/runs", { input: "x" }));
    app.keys.replace({ keys: [entry("alpha"), entry("root", { admin: true })], token });
    for (const who of ["root", "token"] as const) {
      const usage = (await (await app.fetch(as(who, "GET", "/v1/usage?days=1"))).json()) as UsageJson;
      expect(usage.keys.map((k) => [k.key, k.configured, k.days.map((d) => d.runs)])).toEqual([
        ["alpha", true, [0]],
        ["root", true, [0]],
        ["beta", false, [1]],
      ]);
    }
    const one = (await (await app.fetch(as("root", "GET", "/v1/usage?key=beta&from=2026-05-01&to=2026-05-02"))).json()) as UsageJson;
    expect(one.keys.map((k) => k.key)).toEqual(["beta"]);
  });

  it("answers 400 naming the parameter for a bad range", async () => {
    const { app } = usageApp({ value: Date.UTC(2026, 4, 2) });
    for (const [query, param] of [
      ["days=0", "days"],
      ["days=x", "days"],
      ["days=400", "days"],
      ["from=2026-13-01", "from"],
      ["from=2026-05-03&to=2026-05-01", "from"],
      ["days=2&from=2026-05-01", "days"],
    ] as const) {
      const response = await app.fetch(as("root", "GET", `/v1/usage?${query}`));
      expect({ query, status: response.status, param: (await errorOf(response)).param }).toEqual({ query, status: 400, param });
    }
  });
});

describe("background runs of a key", () => {
  it("store the key's name, run with the key's tools and count in its usage", async () => {
    const model = scriptedModel([{ text: "done", usage: { inputTokens: 4, outputTokens: 2 } }]);
    const { app } = testApp({ model, extra: { apiKeys: [entry("alpha", { tools: ["calc"] })] } });
    const accepted = await app.fetch(as("alpha", "POST", "/v1/runs", { input: "later", background: true }));
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };
    // The event stream ends with the run's final event.
    const events = await readSse(await app.fetch(as("alpha", "GET", `/v1/runs/${id}/events`)));
    expect(events.at(-1)?.event).toBe("run.completed");
    expect(model.requests[0]!.tools.map((tool) => tool.name)).toEqual(["calc"]);
    const usage = (await (await app.fetch(as("alpha", "GET", "/v1/usage?days=1"))).json()) as UsageJson;
    expect(usage.keys[0]!.days[0]).toMatchObject({ runs: 1, input_tokens: 4, output_tokens: 2 });
    await app.executor.stop();
  });

  it("refuse a background run at submission once the key's budget is spent", async () => {
    const model = scriptedModel([{ text: "big", usage: { inputTokens: 90, outputTokens: 20 } }]);
    const { app } = testApp({ model, extra: { apiKeys: [entry("alpha", { tokens_per_day: 100 })] } });
    expect((await app.fetch(as("alpha", "POST", "/v1/runs", { input: "spend" }))).status).toBe(200);
    const refused = await app.fetch(as("alpha", "POST", "/v1/runs", { input: "more", background: true }));
    expect(refused.status).toBe(429);
    expect((await errorOf(refused)).param).toBe("tokens_per_day");
    await app.executor.stop();
  });
});
