import { describe, expect, it } from "bun:test";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { createGenAiMetrics } from "../../src/telemetry/metrics.ts";
import { createMetricsTracer } from "../../src/telemetry/metrics-tracer.ts";
import { combineTracers, type RequestSpanInfo, type Tracer } from "../../src/telemetry/tracer.ts";
import { byName, demoRun, only, setup, shutDownAfterEach } from "./otel-kit.ts";

const post: RequestSpanInfo = { method: "POST", route: "/v1/runs", path: "/v1/runs", scheme: "http", serverAddress: "127.0.0.1", serverPort: 8080 };

shutDownAfterEach();

/** The request span's opener, which the OpenTelemetry tracer always has. */
function requests(tracer: Tracer) {
  expect(tracer.startRequest).toBeDefined();
  return (info: RequestSpanInfo) => tracer.startRequest!(info);
}

describe("request spans (createOtelTracer)", () => {
  it("is a SERVER span named after the route, the parent of a run started under its traceparent, ended after it", async () => {
    const { memory, tracer } = setup({ captureContent: true });
    const request = requests(tracer)(post);
    await demoRun(tracer, undefined, { traceparent: request.traceparent! });
    expect(memory.getFinishedSpans().some((span) => span.kind === SpanKind.SERVER)).toBe(false);
    request.end(200);
    const spans = memory.getFinishedSpans();
    const server = only(byName(spans, "POST /v1/runs"));
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.parentSpanContext).toBeUndefined();
    expect(only(byName(spans, "invoke_agent skiff")).parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(server.attributes["http.response.status_code"]).toBe(200);
    expect(server.attributes["input.value"]).toBe("What time is it in Tokyo and in Paris, and what is 17*23?");
    expect(String(server.attributes["output.value"])).toContain("391");
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("is an error for a 5xx only, with the status as error.type", () => {
    const { memory, tracer } = setup();
    requests(tracer)(post).end(503);
    requests(tracer)(post).end(409);
    const [failed, refused] = memory.getFinishedSpans();
    expect([failed!.status.code, failed!.attributes["error.type"]]).toEqual([SpanStatusCode.ERROR, "503"]);
    expect([refused!.status.code, refused!.attributes["error.type"]]).toEqual([SpanStatusCode.UNSET, undefined]);
  });

  it("records nothing when the sampler drops it, and the run under it follows (parent-based)", async () => {
    const { memory, tracer, counts } = setup({ sampler: "parentbased_traceidratio", samplerRatio: 0 });
    const request = requests(tracer)(post);
    expect(request.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    await demoRun(tracer, undefined, { traceparent: request.traceparent! });
    request.end(200);
    expect(counts.handed).toBe(0);
    expect(memory.getFinishedSpans()).toHaveLength(0);
  });

  it("takes nothing from a run that starts after the request ended (a background run claimed later)", async () => {
    const { memory, tracer } = setup({ captureContent: true });
    const request = requests(tracer)(post);
    request.end(202);
    await demoRun(tracer, undefined, { traceparent: request.traceparent! });
    request.end(500);
    const server = only(byName(memory.getFinishedSpans(), "POST /v1/runs"));
    expect(server.attributes["input.value"]).toBeUndefined();
    expect(server.attributes["http.response.status_code"]).toBe(202);
    expect(only(byName(memory.getFinishedSpans(), "invoke_agent skiff")).parentSpanContext?.spanId).toBe(server.spanContext().spanId);
  });

  it("stays available through combineTracers with the metrics tracer, which records no requests", () => {
    const { memory, tracer } = setup();
    const metrics = createMetricsTracer({ metrics: createGenAiMetrics() });
    expect(metrics.startRequest).toBeUndefined();
    for (const combined of [combineTracers([tracer, metrics]), combineTracers([metrics, tracer])]) requests(combined)(post).end(200);
    expect(combineTracers([metrics]).startRequest).toBeUndefined();
    expect(memory.getFinishedSpans()).toHaveLength(2);
  });
});
