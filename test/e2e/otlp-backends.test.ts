/**
 * What the backends read, from the compiled binary over real OTLP/HTTP protobuf: `skiff serve`
 * requests as SERVER spans at the root of their trace (or under the caller's span), the
 * OpenInference attributes only with `[otel] openinference`, the run's cost, cache writes, the
 * time to the first chunk and `["error"]` for a stream that broke off, a client's own system
 * message in the input messages, the resource's SDK attributes and schema URL, and content
 * attributes that fit `[otel] max_attribute_bytes` and still parse as JSON.
 */
import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeOpenAIs, reply } from "../fakes/fake-openai-server.ts";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../fakes/otlp-receiver.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { cleanEnv, runSkiff, skiffBinary } from "./binary.ts";
import { type ServeProcess, startServe, stopAllServes } from "./serve-process.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-otlp-backends-");
const receivers: OtlpReceiver[] = [];
const { start: fakeModel, stopAll: stopFakes } = createFakeOpenAIs();

beforeAll(async () => {
  await skiffBinary();
}, 180_000);

afterEach(async () => {
  await stopAllServes();
  await Promise.all([...receivers.splice(0).map((r) => r.stop()), stopFakes()]);
  removeTempDirs();
});

/** The attributes that hold message content as JSON. */
const jsonContentKeys = ["gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions", "gen_ai.tool.definitions", "gen_ai.tool.call.arguments", "gen_ai.tool.call.result"];
/** The OpenInference attributes skiff adds to agent and tool spans with `openinference`. */
const openInferenceKeys = ["input.value", "input.mime_type", "output.value", "output.mime_type", "session.id"];

async function collector(): Promise<OtlpReceiver> {
  const receiver = await startOtlpReceiver();
  receivers.push(receiver);
  return receiver;
}

/** `skiff serve` exporting to `otlp`, with `toml` as its config file. */
async function serve(otlp: OtlpReceiver, toml: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<ServeProcess> {
  const dir = tempDir();
  writeFileSync(join(dir, "skiff.toml"), `${toml}\n[otel]\nendpoint = "${otlp.url}"\n`);
  return startServe({ cwd: dir, args, env: cleanEnv(env) });
}

/** Stops the server (which flushes its spans before it exits) and returns every span received. */
async function spansAfterStop(server: ServeProcess, otlp: OtlpReceiver): Promise<ReceivedSpan[]> {
  expect(await server.stop()).toBe(0);
  return otlp.spans();
}

async function postRun(server: ServeProcess, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}/v1/runs`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

function one(spans: readonly ReceivedSpan[], predicate: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(predicate);
  expect(found).toHaveLength(1);
  return found[0]!;
}

const named = (name: string) => (span: ReceivedSpan) => span.name === name;

describe("skiff serve traces (compiled binary)", () => {
  it("makes each /v1/runs request a SERVER span: the trace's root, parent of invoke_agent, with the HTTP attributes, cost and cache writes", async () => {
    const otlp = await collector();
    const usage = { prompt_tokens: 1_000, completion_tokens: 500, prompt_tokens_details: { cached_tokens: 200, cache_write_tokens: 300 } };
    const model = fakeModel([
      reply.toolCalls([{ name: "calc", arguments: '{"expression":"6*7"}' }]),
      reply.raw({ json: { id: "r2", object: "chat.completion", model: "fake-model", choices: [{ index: 0, message: { role: "assistant", content: "42" }, finish_reason: "stop" }], usage } }),
    ]);
    const toml = `model = "fake-model"\nbase_url = "${model.url}"\n[tools]\nenable = ["calc"]\n[pricing."fake-model"]\ninput = 1.0\noutput = 2.0\n`;
    const server = await serve(otlp, toml);
    const res = await postRun(server, { input: "what is 6*7?", session_id: "s-42" }, { "user-agent": "backend-test/1" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { trace_id: string };
    const spans = await spansAfterStop(server, otlp);

    const request = one(spans, named("POST /v1/runs"));
    expect(request.kind).toBe(2);
    expect(request.parentSpanId).toBeUndefined();
    expect(request.traceId).toBe(body.trace_id);
    expect(request.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/v1/runs",
      "url.path": "/v1/runs",
      "url.scheme": "http",
      "server.address": "127.0.0.1",
      "server.port": Number(new URL(server.url).port),
      "user_agent.original": "backend-test/1",
      "http.response.status_code": 200,
      // Backends take a trace's session from its root span.
      "session.id": "s-42",
    });
    expect(request.status.code).toBe(0);
    // No content capture: no text anywhere, the request span included.
    for (const span of spans) for (const key of [...jsonContentKeys, "input.value", "output.value"]) expect(span.attributes[key]).toBeUndefined();

    const agent = one(spans, named("invoke_agent skiff"));
    expect(agent.parentSpanId).toBe(request.spanId);
    for (const span of spans.filter((s) => s !== agent && s !== request)) expect(span.parentSpanId).toBe(agent.spanId);
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([request.traceId]));
    // The run's cost under the name Langfuse reads: (1,010 - 200 cached) input, 200 cached at the input price, 505 output.
    expect(agent.attributes["gen_ai.usage.cost"]).toBeCloseTo(((1_000 + 10) * 1.0 + (500 + 5) * 2.0) / 1e6, 9);
    expect(agent.attributes["gen_ai.usage.cache_write.input_tokens"]).toBe(300);
    const chats = spans.filter((span) => span.name === "chat fake-model");
    expect(chats.map((chat) => chat.attributes["gen_ai.usage.cache_write.input_tokens"])).toEqual([undefined, 300]);
    expect(chats[1]!.attributes["gen_ai.usage.cache_read.input_tokens"]).toBe(200);

    expect(request.resource).toMatchObject({
      "telemetry.sdk.name": "opentelemetry",
      "telemetry.sdk.language": "nodejs",
      "telemetry.distro.name": "skiff",
    });
    expect(String(request.resource["telemetry.sdk.version"])).toMatch(/^\d+\.\d+\.\d+/);
    expect(request.resourceSchemaUrl).toBe("https://opentelemetry.io/schemas/1.41.0");
    expect(request.scope.schemaUrl).toBe("https://opentelemetry.io/schemas/1.41.0");
  });

  it("puts the SERVER span under the caller's span when the request carries a traceparent", async () => {
    const otlp = await collector();
    const server = await serve(otlp, 'model = "demo"');
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const res = await postRun(server, { input: "What is 17*23?" }, { traceparent: `00-${traceId}-b7ad6b7169203331-01` });
    expect(res.status).toBe(200);
    const spans = await spansAfterStop(server, otlp);
    const request = one(spans, named("POST /v1/runs"));
    expect(request.traceId).toBe(traceId);
    expect(request.parentSpanId).toBe("b7ad6b7169203331");
    expect(one(spans, named("invoke_agent skiff")).parentSpanId).toBe(request.spanId);
    for (const span of spans) expect(span.traceId).toBe(traceId);
  });

  it("sends the OpenInference attributes only with openinference on; the request span carries the text whenever content is captured", async () => {
    const results: Record<string, ReceivedSpan[]> = {};
    for (const openinference of [false, true]) {
      const otlp = await collector();
      const server = await serve(otlp, `model = "demo"\n`, ["--trace-content", ...(openinference ? ["--otel-openinference"] : [])]);
      const res = await postRun(server, { input: "What is 17*23?", session_id: "oi" });
      expect(res.status).toBe(200);
      results[String(openinference)] = await spansAfterStop(server, otlp);
    }

    const off = results["false"]!;
    for (const span of off.filter((s) => s.kind !== 2)) for (const key of openInferenceKeys) expect(span.attributes[key]).toBeUndefined();
    // gen_ai.output.messages without the deprecated finish_reason.
    expect(JSON.parse(String(one(off, named("invoke_agent skiff")).attributes["gen_ai.output.messages"]))).toEqual([
      { role: "assistant", parts: [{ type: "text", content: "17*23 = 391." }] },
    ]);
    const offRequest = one(off, named("POST /v1/runs"));
    expect(offRequest.attributes).toMatchObject({ "input.value": "What is 17*23?", "output.value": "17*23 = 391.", "session.id": "oi" });
    expect(offRequest.attributes["openinference.span.kind"]).toBeUndefined();

    const on = results["true"]!;
    const agent = one(on, named("invoke_agent skiff"));
    expect(agent.attributes).toMatchObject({
      "input.value": "What is 17*23?",
      "input.mime_type": "text/plain",
      "output.value": "17*23 = 391.",
      "output.mime_type": "text/plain",
      "session.id": "oi",
    });
    const tool = one(on, named("execute_tool calc"));
    expect(JSON.parse(String(tool.attributes["input.value"]))).toEqual({ expression: "17*23" });
    expect(tool.attributes["input.mime_type"]).toBe("application/json");
    expect(JSON.parse(String(tool.attributes["output.value"]))).toEqual({ expression: "17*23", result: 391 });
    expect(tool.attributes["output.mime_type"]).toBe("application/json");
    expect(one(on, named("POST /v1/runs")).attributes["openinference.span.kind"]).toBe("CHAIN");
  });

  it("records a client's own system message as role system, the time to the first chunk of a stream, and error for a stream that broke off", async () => {
    const otlp = await collector();
    const model = fakeModel([reply.text(["Bonjour", " !"]), reply.cut(reply.text(["never", " finished"]), 2)]);
    const toml = `model = "fake-model"\nbase_url = "${model.url}"\nsystem = "You are the configured prompt."\nretries = 0\n`;
    const server = await serve(otlp, toml, ["--trace-content"]);
    const completion = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "skiff", stream: true, messages: [{ role: "system", content: "Answer in French." }, { role: "user", content: "Hello" }] }),
    });
    expect(completion.status).toBe(200);
    await completion.text();
    const broken = await postRun(server, { input: "again", stream: true });
    await broken.text();
    const spans = await spansAfterStop(server, otlp);

    const [answered, cut] = spans.filter((span) => span.name === "chat fake-model").sort((a, b) => Number(a.startNs - b.startNs));
    expect(JSON.parse(String(answered!.attributes["gen_ai.system_instructions"]))).toEqual([{ type: "text", content: "You are the configured prompt." }]);
    expect(JSON.parse(String(answered!.attributes["gen_ai.input.messages"]))).toEqual([
      { role: "system", parts: [{ type: "text", content: "Answer in French." }] },
      { role: "user", parts: [{ type: "text", content: "Hello" }] },
    ]);
    expect(answered!.attributes["gen_ai.request.stream"]).toBe(true);
    const firstChunk = Number(answered!.attributes["gen_ai.response.time_to_first_chunk"]);
    expect(firstChunk).toBeGreaterThan(0);
    expect(firstChunk * 1e9).toBeLessThanOrEqual(Number(answered!.endNs - answered!.startNs));
    expect(answered!.attributes["gen_ai.response.finish_reasons"]).toEqual(["stop"]);
    expect(one(spans, named("POST /v1/chat/completions")).attributes["http.route"]).toBe("/v1/chat/completions");

    expect(cut!.status.code).toBe(2);
    expect(cut!.attributes["gen_ai.response.finish_reasons"]).toEqual(["error"]);
    expect(Number(cut!.attributes["gen_ai.response.time_to_first_chunk"])).toBeGreaterThan(0);
  });

  it("keeps every content attribute within --otel-max-attribute-bytes, as JSON that parses, and names what was cut", async () => {
    const otlp = await collector();
    const long = "All work and no play makes Jack a dull boy. ".repeat(200);
    const model = fakeModel([reply.toolCalls([{ name: "calc", arguments: JSON.stringify({ expression: `1+${"1+".repeat(400)}1` }) }]), reply.text(long)]);
    const toml = `model = "fake-model"\nbase_url = "${model.url}"\n[tools]\nenable = ["calc"]\n`;
    const server = await serve(otlp, toml, ["--trace-content", "--otel-openinference", "--otel-max-attribute-bytes", "1KiB"]);
    const res = await postRun(server, { input: long, session_id: "big" });
    expect(res.status).toBe(200);
    const spans = await spansAfterStop(server, otlp);
    let cut = 0;
    for (const span of spans) {
      for (const [key, value] of Object.entries(span.attributes)) {
        if (typeof value !== "string") continue;
        expect(Buffer.byteLength(value)).toBeLessThanOrEqual(1024);
        const isJson = jsonContentKeys.includes(key) || (key.endsWith(".value") && span.attributes[key.replace(".value", ".mime_type")] === "application/json");
        if (isJson) expect(() => JSON.parse(value)).not.toThrow();
      }
      cut += ((span.attributes["skiff.truncated_attributes"] ?? []) as string[]).length;
    }
    // The question, the answer and the tool arguments, on every span that carries them.
    expect(cut).toBeGreaterThanOrEqual(8);
    expect(String(one(spans, named("POST /v1/runs")).attributes["input.value"])).toEndWith("…[truncated]");
  });

  it("refuses a max_attribute_bytes too small to hold a message, naming the key", async () => {
    const result = await runSkiff(["ask", "--model", "demo", "--otel-max-attribute-bytes", "100", "hi"], { env: cleanEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("max_attribute_bytes");
    expect(result.stderr).toContain("at least 256 bytes");
  });
});

describe("skiff ask with openinference (compiled binary)", () => {
  it("puts the question and the answer on the agent span, the trace's root", async () => {
    const otlp = await collector();
    const result = await runSkiff(["ask", "--model", "demo", "--trace-content", "--otel-openinference", "--otlp-endpoint", otlp.url, "What is 17*23?"], {
      env: cleanEnv(),
    });
    expect(result.code).toBe(0);
    const agent = one(otlp.spans(), named("invoke_agent skiff"));
    expect(agent.parentSpanId).toBeUndefined();
    expect(agent.attributes["input.value"]).toBe("What is 17*23?");
    expect(agent.attributes["output.value"]).toBe(result.stdout.trim());
    // With openinference on, output messages keep finish_reason: Phoenix's 1.41-based converter requires it.
    expect(JSON.parse(String(agent.attributes["gen_ai.output.messages"]))[0].finish_reason).toBe("stop");
  });
});
