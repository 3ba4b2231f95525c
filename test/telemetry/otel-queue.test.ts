/**
 * The export queue: sized from [otel], and a full queue is reported and counted, never silent.
 * Runs the demo agent against a real OTLP receiver on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from "bun:test";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { runAgent } from "../../src/agent/index.ts";
import { createDemoModel } from "../../src/model/demo.ts";
import { type OtelHandle, startOtel } from "../../src/telemetry/otel-setup.ts";
import type { OtelSettings } from "../../src/telemetry/otel-settings.ts";
import { testOtelSettings } from "./otel-settings-fixture.ts";
import { calcTool } from "../../src/tools/builtin/calc.ts";
import { timeTool } from "../../src/tools/builtin/time.ts";
import { type OtlpReceiver, startOtlpReceiver } from "../fakes/otlp-receiver.ts";

let receiver: OtlpReceiver | undefined;
let handle: OtelHandle | undefined;
afterEach(async () => {
  await handle?.shutdown();
  await receiver?.stop();
  handle = receiver = undefined;
});

function settings(url: string, overrides: Partial<OtelSettings>): OtelSettings {
  return testOtelSettings({ tracesUrl: `${url}/v1/traces`, flushTimeoutMs: 500, exportTimeoutMs: 500, ...overrides });
}

async function demoRuns(otel: OtelHandle, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await runAgent({
      model: createDemoModel(),
      tools: [timeTool, calcTool],
      messages: [{ role: "user", content: "What time is it in Tokyo, and what is 17*23?" }],
      limits: { maxSteps: 5, toolTimeoutMs: 5_000, toolOutputLimit: 65_536 },
      tracer: otel.tracer,
    });
  }
}

describe("export queue", () => {
  it("counts and reports, once, the spans dropped while a stuck collector keeps the queue full", async () => {
    receiver = await startOtlpReceiver("hang");
    const warnings: string[] = [];
    const all = new InMemorySpanExporter();
    handle = startOtel({
      settings: settings(receiver.url, { maxQueueSize: 4, maxExportBatchSize: 2 }),
      warn: (line) => warnings.push(line),
      spanProcessors: [new SimpleSpanProcessor(all)],
      maxConcurrentExports: 2,
    });
    await demoRuns(handle, 3);
    const ended = all.getFinishedSpans().length;
    expect(ended).toBeGreaterThanOrEqual(15);
    // Two batches of 2 went to the (hanging) exporter, 4 wait in the queue, the rest were dropped.
    expect(handle.droppedSpans()).toBe(ended - 2 * 2 - 4);
    const drops = warnings.filter((line) => line.includes("otel.max_queue_size"));
    expect(drops).toHaveLength(1);
    expect(drops[0]).toContain("spans are being dropped: 4 were already waiting for export");
  });

  it("drops nothing when the queue holds what the collector has not taken yet", async () => {
    receiver = await startOtlpReceiver("ok");
    const warnings: string[] = [];
    const all = new InMemorySpanExporter();
    handle = startOtel({
      settings: settings(receiver.url, { maxQueueSize: 64, maxExportBatchSize: 8 }),
      warn: (line) => warnings.push(line),
      spanProcessors: [new SimpleSpanProcessor(all)],
    });
    await demoRuns(handle, 10);
    const ended = all.getFinishedSpans().length; // read before shutdown, which clears the in-memory exporter
    await handle.shutdown();
    expect(handle.droppedSpans()).toBe(0);
    expect(ended).toBeGreaterThanOrEqual(50);
    expect(receiver.spans().length).toBe(ended);
    // Batches of at most max_export_batch_size spans.
    expect(Math.max(...receiver.requests.map((request) => request.spans.length))).toBeLessThanOrEqual(8);
    expect(warnings).toEqual([]);
  });
});
