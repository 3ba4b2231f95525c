/**
 * BatchExportProcessor: full batches go out at once, several in flight, partial ones after the
 * delay or on flush, a full queue drops and counts, and nothing is taken after shutdown. The
 * exporter is a hand-written fake whose exports answer when the test says so.
 */
import { describe, expect, it } from "bun:test";
import { SpanKind, TraceFlags } from "@opentelemetry/api";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { BatchExportProcessor, type BatchExportOptions } from "../../src/telemetry/batch-export.ts";
import { ExportedSpan, type SpanOutput } from "../../src/telemetry/exported-span.ts";
import { defaultSpanLimits } from "../../src/telemetry/span-limits.ts";

const output: SpanOutput = { resource: resourceFromAttributes({}), scope: { name: "test" }, limits: defaultSpanLimits, onEnd: () => {} };

let nextId = 1;
function span(sampled = true): ReadableSpan {
  const spanId = (nextId++).toString(16).padStart(16, "0");
  const context = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE };
  return new ExportedSpan(
    { name: `s${spanId}`, kind: SpanKind.INTERNAL, context, parent: undefined, attributes: {}, events: undefined, status: undefined, startTime: 1, endTime: 2 },
    output,
  );
}

/** An exporter whose exports wait until `answer` is called; `started(n)` resolves once n exports began. */
class HeldExporter implements SpanExporter {
  readonly batches: ReadableSpan[][] = [];
  readonly callbacks: ((result: ExportResult) => void)[] = [];
  shutdowns = 0;
  private waiters: { count: number; resolve: () => void }[] = [];

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.batches.push(spans);
    this.callbacks.push(done);
    for (const waiter of this.waiters.filter((w) => this.batches.length >= w.count)) waiter.resolve();
    this.waiters = this.waiters.filter((w) => this.batches.length < w.count);
  }

  /** Answers export number `index` (0-based) with success. */
  answer(index: number): void {
    this.callbacks[index]!({ code: ExportResultCode.SUCCESS });
  }

  started(count: number): Promise<void> {
    if (this.batches.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async shutdown(): Promise<void> {
    this.shutdowns++;
  }
}

/** Answers every export at once. */
class PromptExporter extends HeldExporter {
  override export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    super.export(spans, done);
    done({ code: ExportResultCode.SUCCESS });
  }
}

function processor(exporter: SpanExporter, options: Partial<BatchExportOptions> = {}): { batches: BatchExportProcessor; drops: () => number } {
  let drops = 0;
  const batches = new BatchExportProcessor(exporter, {
    maxQueueSize: 8,
    maxExportBatchSize: 2,
    maxConcurrentExports: 2,
    scheduledDelayMs: 3_600_000,
    exportTimeoutMs: 3_600_000,
    onDrop: () => drops++,
    ...options,
  });
  return { batches, drops: () => drops };
}

describe("BatchExportProcessor", () => {
  it("sends a batch as soon as it is full, and holds a partial one until flushed", async () => {
    const exporter = new PromptExporter();
    const { batches } = processor(exporter, { maxExportBatchSize: 3 });
    const spans = [span(), span(), span(), span()];
    for (const s of spans) batches.onEnd(s);
    expect(exporter.batches).toEqual([spans.slice(0, 3)]);
    await batches.forceFlush();
    expect(exporter.batches).toEqual([spans.slice(0, 3), spans.slice(3)]);
    await batches.shutdown();
  });

  it("sends a partial batch once the delay has passed", async () => {
    const exporter = new PromptExporter();
    const { batches } = processor(exporter, { maxExportBatchSize: 100, scheduledDelayMs: 1 });
    const one = span();
    batches.onEnd(one);
    await exporter.started(1);
    expect(exporter.batches).toEqual([[one]]);
    await batches.shutdown();
  });

  it("keeps up to maxConcurrentExports batches in flight and starts the next full one when a slot frees", async () => {
    const exporter = new HeldExporter();
    const { batches, drops } = processor(exporter, { maxConcurrentExports: 2 });
    const spans = Array.from({ length: 6 }, () => span());
    for (const s of spans) batches.onEnd(s);
    expect(exporter.batches).toEqual([spans.slice(0, 2), spans.slice(2, 4)]);
    exporter.answer(0);
    expect(exporter.batches).toEqual([spans.slice(0, 2), spans.slice(2, 4), spans.slice(4, 6)]);
    exporter.answer(1);
    exporter.answer(2);
    expect(drops()).toBe(0);
    await batches.shutdown();
  });

  it("drops and counts the spans that end while the queue is full and every slot is busy", async () => {
    const exporter = new HeldExporter();
    const { batches, drops } = processor(exporter, { maxQueueSize: 4, maxExportBatchSize: 2, maxConcurrentExports: 1 });
    for (let i = 0; i < 9; i++) batches.onEnd(span());
    // One batch of 2 in flight, 4 waiting, 3 dropped.
    expect(exporter.batches).toHaveLength(1);
    expect(batches.dropped).toBe(3);
    expect(drops()).toBe(3);
    exporter.answer(0);
    expect(exporter.batches).toHaveLength(2);
    exporter.answer(1);
    exporter.answer(2);
    await batches.shutdown();
  });

  it("ignores spans that are not sampled", async () => {
    const exporter = new PromptExporter();
    const { batches } = processor(exporter);
    batches.onEnd(span(false));
    await batches.shutdown();
    expect(exporter.batches).toEqual([]);
  });

  it("flushes what waits a slot at a time, waiting for every export", async () => {
    const exporter = new HeldExporter();
    const { batches } = processor(exporter, { maxQueueSize: 100, maxExportBatchSize: 10, maxConcurrentExports: 1 });
    const spans = Array.from({ length: 25 }, () => span());
    for (const s of spans) batches.onEnd(s);
    let flushed = false;
    const flushing = batches.forceFlush().then(() => (flushed = true));
    for (let i = 0; i < 3; i++) {
      await exporter.started(i + 1);
      expect(exporter.batches).toHaveLength(i + 1);
      expect(flushed).toBe(false);
      exporter.answer(i);
    }
    await flushing;
    expect(exporter.batches.flat()).toEqual(spans);
  });

  it("takes nothing after shutdown, and shuts the exporter down once", async () => {
    const exporter = new PromptExporter();
    const { batches } = processor(exporter);
    const first = span();
    batches.onEnd(first);
    await Promise.all([batches.shutdown(), batches.shutdown()]);
    batches.onEnd(span());
    await batches.forceFlush();
    expect(exporter.batches).toEqual([[first]]);
    expect(exporter.shutdowns).toBe(1);
  });

  it("frees the slot of an export that never answers after exportTimeoutMs", async () => {
    const exporter = new HeldExporter();
    const { batches } = processor(exporter, { maxExportBatchSize: 1, maxConcurrentExports: 1, exportTimeoutMs: 1 });
    batches.onEnd(span());
    batches.onEnd(span());
    expect(exporter.batches).toHaveLength(1);
    // Never answered: the second batch goes out once the first one's slot is given up.
    await exporter.started(2);
    exporter.answer(1);
    await batches.shutdown();
  });
});
