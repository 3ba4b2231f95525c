/**
 * Durable runs: a resumed run keeps its trace (`RunSpanInfo.traceId`) and says it was resumed
 * (`RunSpanInfo.resumed`: a `skiff.run.resumed` event on the agent span). Checked on a real
 * OTLP/HTTP protobuf export, decoded, and on the `--trace` tree.
 */
import { afterEach, describe, expect, it } from "bun:test";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { SamplingDecision, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
import { emptyUsage } from "../../src/model/messages.ts";
import { type OtelHandle, startOtel } from "../../src/telemetry/otel-setup.ts";
import type { OtelSettings } from "../../src/telemetry/otel-settings.ts";
import { defaultSpanLimits } from "../../src/telemetry/span-limits.ts";
import type { RunSpanInfo, Tracer } from "../../src/telemetry/tracer.ts";
import { testOtelSettings } from "./otel-settings-fixture.ts";
import type { DecodedSpan } from "../fakes/otlp-decode.ts";
import { captureOtlp, type OtlpCapture } from "./otlp-capture.ts";

const firstTrace = "0af7651916cd43dd8448eb211c80319c";
const caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01";

let capture: OtlpCapture | undefined;
let otel: OtelHandle | undefined;
afterEach(async () => {
  await otel?.shutdown();
  await capture?.stop();
  otel = capture = undefined;
});

function start(overrides: Partial<OtelSettings> = {}, treeWriter?: (text: string) => void): Tracer {
  capture = captureOtlp();
  otel = startOtel({
    settings: testOtelSettings({ tracesUrl: capture.tracesUrl, ...overrides }),
    warn: () => {},
    spanLimits: defaultSpanLimits,
    ...(treeWriter ? { treeWriter } : {}),
  });
  return otel.tracer;
}

/** One run through the port: a chat, a tool, the end. Returns the tool's traceparent and the run's trace id. */
function run(tracer: Tracer, info: Partial<RunSpanInfo>) {
  const span = tracer.startRun({ agentName: "skiff", requestModel: "m", input: [], tools: [], ...info });
  span
    .startChat({ model: "m", provider: "openai", stream: false, attempt: 1, messages: [], tools: [] })
    .end({ message: { role: "assistant", content: "ok" }, usage: emptyUsage, finishReason: "stop", id: undefined, model: "m", provider: "openai" });
  const tool = span.startTool({ name: "t", callId: "c1", description: "", type: "function", arguments: "{}" });
  tool.end("{}");
  span.end({ usage: emptyUsage, finishReason: "stop" });
  return { traceId: span.traceId, traceparent: tool.traceparent };
}

/** Flushes the export and returns every span, decoded from protobuf. */
async function exported(): Promise<DecodedSpan[]> {
  await otel!.shutdown();
  return capture!.spans();
}

describe("resumed runs (RunSpanInfo.traceId, .resumed)", () => {
  it("starts the agent span as a root in the given trace, and every child and tool traceparent with it", async () => {
    const tracer = start();
    const result = run(tracer, { traceId: firstTrace });
    expect(result.traceId).toBe(firstTrace);
    expect(result.traceparent).toMatch(new RegExp(`^00-${firstTrace}-[0-9a-f]{16}-01$`));
    const spans = await exported();
    expect(spans).toHaveLength(3);
    const agent = spans.find((span) => span.name === "invoke_agent skiff")!;
    expect(agent.parentSpanId).toBe("");
    for (const span of spans) expect(span.traceId).toBe(firstTrace);
    for (const span of spans) if (span !== agent) expect(span.parentSpanId).toBe(agent.spanId);
  });

  it("makes the traceparent's span the agent span's remote parent when both are given", async () => {
    const tracer = start();
    run(tracer, { traceId: firstTrace, traceparent: caller });
    const agent = (await exported()).find((span) => span.name === "invoke_agent skiff")!;
    expect(agent.traceId).toBe(firstTrace);
    expect(agent.parentSpanId).toBe("b7ad6b7169203331");
    // OTLP span flags: sampled, and "has is_remote" with "is_remote" set (0x100 | 0x200).
    expect(agent.flags).toBe(0x301);
  });

  it("puts a skiff.run.resumed event with the attempt and replica on the agent span, at the run's start", async () => {
    const tracer = start();
    run(tracer, { traceId: firstTrace, resumed: { attempt: 2, replica: "skiff-b" } });
    run(tracer, { traceId: firstTrace });
    const agents = (await exported()).filter((span) => span.name === "invoke_agent skiff");
    expect(agents).toHaveLength(2);
    const [resumed, plain] = agents;
    expect(resumed!.events).toEqual([{ name: "skiff.run.resumed", timeNs: resumed!.startNs, attributes: { "skiff.run.attempt": 2, "skiff.replica": "skiff-b" }, droppedAttributesCount: 0 }]);
    expect(plain!.events).toEqual([]);
    expect(resumed!.spanId).not.toBe(plain!.spanId);
  });

  it("puts a skiff.approval.decided event per decision on the agent span: call, tool, decision, who, how long", async () => {
    const tracer = start();
    const span = tracer.startRun({ agentName: "skiff", requestModel: "m", input: [], tools: [], traceId: firstTrace, resumed: { attempt: 2, replica: "r" } });
    span.approvalDecided({ callId: "c1", toolName: "fs_write", approve: true, by: "api", waitMs: 61_234.6 });
    span.approvalDecided({ callId: "c2", toolName: "fs_write", approve: false });
    span.end({ usage: emptyUsage, finishReason: "stop" });
    const agent = (await exported()).find((s) => s.name === "invoke_agent skiff")!;
    expect(agent.events.map((event) => [event.name, event.attributes])).toEqual([
      ["skiff.run.resumed", { "skiff.run.attempt": 2, "skiff.replica": "r" }],
      ["skiff.approval.decided", { "gen_ai.tool.call.id": "c1", "gen_ai.tool.name": "fs_write", "skiff.approval.approved": true, "skiff.approval.by": "api", "skiff.approval.wait_ms": 61_235 }],
      ["skiff.approval.decided", { "gen_ai.tool.call.id": "c2", "gen_ai.tool.name": "fs_write", "skiff.approval.approved": false }],
    ]);
  });

  it("samples a resumed run by its own trace id, so every attempt of a trace gets the same decision", async () => {
    const tracer = start({ sampler: "traceidratio", samplerRatio: 0.5 });
    const ratio = new TraceIdRatioBasedSampler(0.5);
    // The ratio sampler reads the trace id's bits: these spread the first hex digit over 0–f.
    const ids = Array.from({ length: 16 }, (_, i) => `${i.toString(16)}${"0".repeat(30)}1`);
    for (const traceId of ids) for (let attempt = 1; attempt <= 2; attempt++) run(tracer, { traceId, resumed: { attempt, replica: "r" } });
    const kept = ids.filter((traceId) => ratio.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(ids.length);
    const spans = await exported();
    expect([...new Set(spans.map((span) => span.traceId))].sort()).toEqual(kept.sort());
    expect(spans).toHaveLength(kept.length * 2 * 3);
  });

  it("starts a trace of its own when the given trace id is not a W3C trace id", async () => {
    const tracer = start();
    const bad = ["xyz", "0".repeat(32), `${firstTrace}00`];
    const ids = bad.map((traceId) => run(tracer, { traceId }).traceId);
    for (const id of ids) expect(id).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(3);
    expect(run(tracer, { traceId: firstTrace.toUpperCase() }).traceId).toBe(firstTrace);
  });

  it("shows the resumption on the agent's row of the --trace tree", async () => {
    let tree = "";
    const tracer = start({}, (text) => (tree += text));
    run(tracer, { traceId: firstTrace, resumed: { attempt: 3, replica: "skiff-c" } });
    const lines = tree.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^invoke_agent skiff .* in 0 · out 0 tok · stop · resumed \(attempt 3\)$/);
  });
});
