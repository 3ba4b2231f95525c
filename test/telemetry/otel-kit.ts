/**
 * What the OTel tracer tests share: startOtel with an in-memory exporter and a counter of the
 * spans handed to processors, the demo run, and small readers of exported spans.
 */
import { afterEach, expect } from "bun:test";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { runAgent } from "../../src/agent/index.ts";
import { createDemoModel } from "../../src/model/demo.ts";
import type { Message } from "../../src/model/messages.ts";
import { type OtelHandle, type OtelSetupOptions, startOtel } from "../../src/telemetry/otel-setup.ts";
import type { OtelSettings } from "../../src/telemetry/otel-settings.ts";
import { calcTool } from "../../src/tools/builtin/calc.ts";
import { timeTool } from "../../src/tools/builtin/time.ts";
import type { Tool } from "../../src/tools/tool.ts";
import { testOtelSettings } from "./otel-settings-fixture.ts";

/** The demo model's question: two time calls and a calc in one step. */
export const question = "What time is it in Tokyo and in Paris, and what is 17*23?";
/** The system prompt of the demo run. */
export const system = "You are a test agent.";
/** Run limits generous enough never to cut a test run short. */
export const limits = { maxSteps: 5, toolTimeoutMs: 5_000, toolOutputLimit: 65_536 };

let handles: OtelHandle[] = [];
/** Shuts down, after each test, every SDK the test started. */
export function shutDownAfterEach(): void {
  afterEach(async () => {
    await Promise.all(handles.map((handle) => handle.shutdown()));
    handles = [];
  });
}

/**
 * Counts the spans handed to processors (sampled or not: spans reach them only once ended), and
 * `handed(name)` resolves when a span of that name has been handed over (a latch for tests).
 */
function handedOver() {
  const counts = { handed: 0 };
  const waiting = new Map<string, PromiseWithResolvers<ReadableSpan>>();
  const latch = (name: string) => {
    let entry = waiting.get(name);
    if (!entry) waiting.set(name, (entry = Promise.withResolvers<ReadableSpan>()));
    return entry;
  };
  const processor: SpanProcessor = {
    onStart() {
      throw new Error("onStart is never called: spans reach processors once they have ended");
    },
    onEnd(span) {
      counts.handed++;
      latch(span.name).resolve(span);
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  return { counts, processor, handed: (name: string) => latch(name).promise };
}

/** startOtel with an in-memory exporter; `treeWriter` turns `--trace` on. */
export function setup(overrides: Partial<OtelSettings> = {}, treeWriter?: (text: string) => void, extra: Partial<OtelSetupOptions> = {}) {
  const memory = new InMemorySpanExporter();
  const { counts, processor, handed } = handedOver();
  const otel = startOtel({
    settings: testOtelSettings(overrides),
    warn: () => {},
    spanProcessors: [new SimpleSpanProcessor(memory), processor],
    ...(treeWriter ? { treeWriter } : {}),
    ...extra,
  });
  handles.push(otel);
  return { memory, tracer: otel.tracer, counts, handed };
}

/** The demo model's run: two chats and, between them, three tool calls at once. */
export function demoRun(tracer: ReturnType<typeof setup>["tracer"], tools: readonly Tool[] = [timeTool, calcTool], extra: { traceparent?: string } = {}) {
  const messages: Message[] = [
    { role: "system", content: system },
    { role: "user", content: question },
  ];
  return runAgent({ model: createDemoModel(), tools, messages, limits, tracer, ...extra });
}

/** The spans of that name, by start time. */
export function byName(spans: readonly ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((span) => span.name === name).sort((a, b) => ms(a.startTime) - ms(b.startTime));
}

/** An HrTime in epoch milliseconds. */
export function ms(time: readonly [number, number]): number {
  return time[0] * 1000 + time[1] / 1e6;
}

/** The single item, failing the test when there is not exactly one. */
export function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0]!;
}

/** A JSON string attribute, parsed. */
export function json(span: ReadableSpan, key: string): unknown {
  const value = span.attributes[key];
  expect(typeof value).toBe("string");
  return JSON.parse(value as string);
}
