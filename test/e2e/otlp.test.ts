import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../fakes/otlp-receiver.ts";
import { cleanEnv, runSkiff, skiffBinary } from "./binary.ts";

const question = "What time is it in Tokyo and in Paris?";
/** Generous: a loaded 2-core machine, a 2 s flush limit and process start-up. */
const boundedExitMs = 6_000;

let receiver: OtlpReceiver | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  await skiffBinary();
}, 180_000);

afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function collector(mode: "ok" | "error500" | "hang" = "ok"): Promise<OtlpReceiver> {
  receiver = await startOtlpReceiver(mode);
  return receiver;
}

function named(spans: readonly ReceivedSpan[], name: string): ReceivedSpan[] {
  return spans.filter((span) => span.name === name);
}

function one(spans: readonly ReceivedSpan[], name: string): ReceivedSpan {
  const found = named(spans, name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe("skiff ask exporting OTLP/HTTP protobuf (compiled binary)", () => {
  it("sends one trace: invoke_agent with chat and parallel execute_tool children, resource and headers", async () => {
    const otlp = await collector();
    const result = await runSkiff(["ask", "--model", "demo", "--json", "--otlp-endpoint", otlp.url, question], {
      env: cleanEnv({
        OTEL_SERVICE_NAME: "skiff-e2e",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test,team=agents%20core",
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Basic cGs6c2s=,x-tenant=t1",
        OTEL_EXPORTER_OTLP_COMPRESSION: "gzip",
      }),
    });
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain("telemetry");
    const spans = otlp.spans();
    expect(spans.map((span) => span.name).sort()).toEqual([
      "chat demo",
      "chat demo",
      "execute_tool time",
      "execute_tool time",
      "invoke_agent skiff",
    ]);

    const request = otlp.requests[0]!;
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/v1/traces");
    expect(request.headers["content-type"]).toBe("application/x-protobuf");
    expect(request.headers["content-encoding"]).toBe("gzip");
    // Split on the first "=", so base64 padding survives.
    expect(request.headers["authorization"]).toBe("Basic cGs6c2s=");
    expect(request.headers["x-tenant"]).toBe("t1");

    const agent = one(spans, "invoke_agent skiff");
    expect(agent.kind).toBe(1);
    expect(agent.parentSpanId).toBeUndefined();
    expect(JSON.parse(result.stdout).trace_id).toBe(agent.traceId);
    expect(agent.resource["service.name"]).toBe("skiff-e2e");
    expect(agent.resource["service.version"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(agent.resource["deployment.environment.name"]).toBe("test");
    expect(agent.resource["team"]).toBe("agents core");
    expect(agent.scope.name).toBe("skiff");
    expect(agent.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "skiff",
      "gen_ai.request.model": "demo",
      "gen_ai.response.finish_reasons": ["stop"],
    });
    expect(agent.attributes["gen_ai.usage.input_tokens"]).toBeGreaterThan(0);

    const chats = named(spans, "chat demo");
    for (const chat of chats) {
      expect(chat.kind).toBe(3);
      expect(chat.attributes).toMatchObject({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "skiff.demo",
        "gen_ai.request.model": "demo",
        "gen_ai.response.model": "demo",
      });
      expect(chat.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0);
    }
    expect(chats.map((chat) => chat.attributes["gen_ai.response.finish_reasons"])).toContainEqual(["tool_calls"]);

    const tools = named(spans, "execute_tool time");
    for (const tool of tools) {
      expect(tool.kind).toBe(1);
      expect(tool.attributes).toMatchObject({
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "time",
        "gen_ai.tool.type": "function",
        "gen_ai.agent.name": "skiff",
      });
      expect(tool.attributes["gen_ai.tool.call.id"]).toMatch(/^call_\d_time$/);
      expect(typeof tool.attributes["gen_ai.tool.description"]).toBe("string");
    }
    for (const span of [...chats, ...tools]) {
      expect(span.traceId).toBe(agent.traceId);
      expect(span.parentSpanId).toBe(agent.spanId);
      expect(span.status.code).toBe(0);
      expect(span.attributes["gen_ai.system"]).toBeUndefined();
      expect(span.attributes["gen_ai.input.messages"]).toBeUndefined();
    }
    // Parallel: each tool started before the other ended.
    expect(tools[0]!.startNs < tools[1]!.endNs && tools[1]!.startNs < tools[0]!.endNs).toBe(true);
  });

  it("takes the endpoint, headers and service name from the [otel] table, with env: secrets", async () => {
    const otlp = await collector();
    const dir = mkdtempSync(join(tmpdir(), "skiff-otel-"));
    dirs.push(dir);
    writeFileSync(
      join(dir, "skiff.toml"),
      [
        "[otel]",
        `endpoint = "${otlp.url}/"`,
        'service_name = "from-file"',
        'headers = { authorization = "env:OTLP_TOKEN" }',
        'resource_attributes = { "deployment.environment.name" = "file" }',
        "capture_content = true",
      ].join("\n"),
    );
    const result = await runSkiff(["ask", "--model", "demo", "What is 17*23?"], { cwd: dir, env: cleanEnv({ OTLP_TOKEN: "Bearer s3cret" }) });
    expect(result.code).toBe(0);
    const spans = otlp.spans();
    expect(otlp.requests[0]!.path).toBe("/v1/traces");
    expect(otlp.requests[0]!.headers["authorization"]).toBe("Bearer s3cret");
    const agent = one(spans, "invoke_agent skiff");
    expect(agent.resource["service.name"]).toBe("from-file");
    expect(agent.resource["deployment.environment.name"]).toBe("file");
    // capture_content: the content attributes are JSON in the parts format.
    const calc = one(spans, "execute_tool calc");
    expect(JSON.parse(String(calc.attributes["gen_ai.tool.call.arguments"]))).toEqual({ expression: "17*23" });
    expect(JSON.parse(String(calc.attributes["gen_ai.tool.call.result"]))).toEqual({ expression: "17*23", result: 391 });
    expect(JSON.parse(String(agent.attributes["gen_ai.output.messages"]))).toEqual([{ role: "assistant", parts: [{ type: "text", content: "17*23 = 391." }] }]);
    for (const span of spans) expect(JSON.stringify(span.attributes)).not.toContain("s3cret");
  });

  it("uses OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as-is", async () => {
    const otlp = await collector();
    const result = await runSkiff(["ask", "--model", "demo", "what is 6*7?"], {
      env: cleanEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/custom/traces` }),
    });
    expect(result.code).toBe(0);
    expect(otlp.requests.map((request) => request.path)).toEqual(["/custom/traces"]);
    expect(otlp.spans().length).toBe(4);
  });

  it("joins the trace of TRACEPARENT", async () => {
    const otlp = await collector();
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const result = await runSkiff(["ask", "--model", "demo", question], {
      env: cleanEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, TRACEPARENT: `00-${traceId}-b7ad6b7169203331-01` }),
    });
    expect(result.code).toBe(0);
    const spans = otlp.spans();
    expect(spans.length).toBe(5);
    for (const span of spans) expect(span.traceId).toBe(traceId);
    expect(one(spans, "invoke_agent skiff").parentSpanId).toBe("b7ad6b7169203331");
  });

  it("sends nothing with OTEL_SDK_DISABLED=true or the always_off sampler", async () => {
    const otlp = await collector();
    for (const extra of [{ OTEL_SDK_DISABLED: "true" }, { OTEL_TRACES_SAMPLER: "always_off" }]) {
      const result = await runSkiff(["ask", "--model", "demo", question], { env: cleanEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, ...extra }) });
      expect(result.code).toBe(0);
    }
    // Spans are flushed before exit, so anything sent would be here already; wait a little anyway.
    await Bun.sleep(200);
    expect(otlp.requests).toHaveLength(0);
  });

  it("keeps a sampled-out run's --trace tree and exports only what the ratio sampler keeps", async () => {
    const otlp = await collector();
    const result = await runSkiff(["ask", "--model", "demo", "--trace", question], {
      env: cleanEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" }),
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("invoke_agent skiff");
    expect(otlp.requests).toHaveLength(0);
  });

  it("rejects an unknown OTEL_TRACES_SAMPLER as a config error naming the variable", async () => {
    const result = await runSkiff(["ask", "--model", "demo", question], { env: cleanEnv({ OTEL_TRACES_SAMPLER: "sometimes" }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("OTEL_TRACES_SAMPLER");
  });
});

describe("a collector that misbehaves never fails or stalls skiff ask", () => {
  it("collector down (connection refused): exit 0, one stderr line, bounded exit", async () => {
    const otlp = await collector();
    await otlp.stop();
    receiver = undefined;
    const result = await runSkiff(["ask", "--model", "demo", question], { env: cleanEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url }) });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("In Tokyo it is");
    const lines = result.stderr.split("\n").filter((line) => line.includes("telemetry"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("ECONNREFUSED");
    expect(result.ms).toBeLessThan(boundedExitMs);
  });

  it("collector hanging: exit 0 once the flush limit passes", async () => {
    const otlp = await collector("hang");
    const result = await runSkiff(["ask", "--model", "demo", question], {
      env: cleanEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, SKIFF_OTEL_EXPORT_TIMEOUT: "1s" }),
    });
    expect(result.code).toBe(0);
    expect(otlp.requests.length).toBeGreaterThan(0);
    // The flush waited for the collector about as long as allowed, not more.
    expect(result.ms).toBeGreaterThanOrEqual(900);
    expect(result.ms).toBeLessThan(1_000 + 3_000);
    expect(result.stderr.split("\n").filter((line) => line.includes("telemetry"))).toHaveLength(1);
  });

  it("collector hanging with the default flush limit: exit within the bound", async () => {
    const otlp = await collector("hang");
    const result = await runSkiff(["ask", "--model", "demo", question], { env: cleanEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url }) });
    expect(result.code).toBe(0);
    expect(result.ms).toBeLessThan(boundedExitMs);
  });

  it("collector answering 500: exit 0 and the status on one stderr line", async () => {
    const otlp = await collector("error500");
    const result = await runSkiff(["ask", "--model", "demo", question], {
      env: cleanEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer topsecret" }),
    });
    expect(result.code).toBe(0);
    const lines = result.stderr.split("\n").filter((line) => line.includes("telemetry"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("HTTP 500");
    expect(result.stderr).not.toContain("topsecret");
    expect(result.ms).toBeLessThan(boundedExitMs);
  });
});
