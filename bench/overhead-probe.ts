/**
 * skiff's own CPU per turn, with no network in the way: the real app (createApp) and runtime
 * wiring, a model and a tool that answer at once in-process, telemetry exported for real to the
 * fake upstream's OTLP endpoint. Prints µs per turn for each layer switched on.
 *
 *   bun bench/overhead-probe.ts
 */
import { z } from "zod";
import { runAgent } from "../src/agent/index.ts";
import { runLimits } from "../src/cli/run-limits.ts";
import { loadConfig } from "../src/config/index.ts";
import type { Model } from "../src/model/model.ts";
import { createApp } from "../src/server/app.ts";
import { createLogger } from "../src/server/logger.ts";
import { RunTracker } from "../src/server/run-tracker.ts";
import { createMemorySessionStore } from "../src/sessions/memory.ts";
import { startOtel } from "../src/telemetry/otel-setup.ts";
import { noopTracer, type Tracer } from "../src/telemetry/tracer.ts";
import { defineTool } from "../src/tools/define-tool.ts";
import { startWithPort } from "./proc.ts";

const up = await startWithPort([process.execPath, "bench/fake-upstream.ts"], { PATH: process.env["PATH"] });
const model: Model = {
  name: "m",
  provider: "openai",
  async complete(request) {
    const last = request.messages.at(-1);
    const message =
      last?.role === "tool"
        ? { role: "assistant" as const, content: "done" }
        : { role: "assistant" as const, content: null, tool_calls: [0, 1, 2].map((i) => ({ id: `c${i}`, name: "lookup", arguments: `{"q":"${i}"}` })) };
    const span = request.spans?.startChat({ model: "m", provider: "openai", stream: false, attempt: 1, messages: request.messages, tools: request.tools });
    const response = { message, usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 0, reasoningTokens: 0 }, finishReason: last?.role === "tool" ? ("stop" as const) : ("tool_calls" as const), id: "x", model: "m", provider: "openai" };
    span?.end(response);
    return response;
  },
};
const lookup = defineTool({ name: "lookup", description: "d", input: z.object({ q: z.string() }), run: async ({ q }) => ({ q, answer: 42 }) });
const loaded = loadConfig({ flags: new Map(), env: {}, cwd: "/x", readFile: () => undefined, parseToml: (t) => Bun.TOML.parse(t) });
if (!loaded.ok) throw new Error("config");
const config = loaded.value.config;

async function time(name: string, turn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 2000; i++) await turn();
  const n = 10_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) await turn();
  console.log(`${name.padEnd(40)} ${(((performance.now() - started) / n) * 1000).toFixed(1)} µs/turn`);
}

const otel = startOtel({
  settings: {
    tracesUrl: `http://127.0.0.1:${up.port}/v1/traces`,
    headers: {},
    resource: { "service.name": "bench" },
    sampler: "parentbased_always_on",
    maxQueueSize: 16_384,
    maxExportBatchSize: 2_048,
    samplerRatio: 1,
    captureContent: false,
    openInference: false,
    maxAttributeBytes: 0,
    flushTimeoutMs: 2_000,
    exportTimeoutMs: undefined,
  },
  warn: () => {},
});
const otelTracer: Tracer = otel.tracer;
const limits = runLimits(config);
const messages = [{ role: "user" as const, content: "hi" }];

await time("runAgent, no tracing", () => runAgent({ model, tools: [lookup], messages, limits }));
await time("runAgent + OTel spans", () => runAgent({ model, tools: [lookup], messages, limits, tracer: otelTracer }));
for (const [name, tracer] of [["app, no tracing", noopTracer], ["app + OTel spans", otelTracer]] as const) {
  const app = createApp({
    model,
    tools: [lookup],
    tracer,
    store: createMemorySessionStore(),
    runs: new RunTracker(10_000),
    limits,
    settings: { maxBodyBytes: 1 << 20, maxTimeoutMs: 600_000, maxHistoryMessages: 200 },
    system: config.system,
    logger: createLogger({ level: "warn", format: "json", write: () => {} }),
  });
  await time(name, async () => (await app.fetch(new Request("http://skiff/v1/runs", { method: "POST", body: '{"input":"hi"}', headers: { "content-type": "application/json" } }))).text());
}
await otel.shutdown();
await up.stop();
process.exit(0);
