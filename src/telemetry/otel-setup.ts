/**
 * Sets up the OpenTelemetry SDK for one process: a provider with skiff's resource and sampler, an
 * OTLP/HTTP-protobuf exporter in a BatchSpanProcessor, and the `--trace` tree fed from the same
 * spans. The provider's id generator and sampler take presets (Presets below), so otel.ts can
 * create each span only when it ends, with ids and a sampling decision fixed when its run
 * started. No globals are registered (no global provider, no context manager): the tracer is
 * handed to the Tracer adapter in otel.ts. Imports are static, because `bun build --compile`
 * drops exporters loaded by dynamic require (anthropics/claude-code#50567).
 */
import { ExportResultCode } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type IdGenerator,
  ParentBasedSampler,
  RandomIdGenerator,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import {
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanKind,
  type SpanOptions,
  SpanStatusCode,
  TraceFlags,
  type Tracer as ApiTracer,
} from "@opentelemetry/api";
import { buildInfo } from "../build-info.ts";
import { createOtelTracer, type LateSpans, type SpanPreset } from "./otel.ts";
import { displayUrl, type OtelSettings } from "./otel-settings.ts";
import { createTreeCollector, type FinishedSpan } from "./tree.ts";
import type { Tracer } from "./tracer.ts";

/** What startOtel needs: resolved settings and where to print. */
export interface OtelSetupOptions {
  readonly settings: OtelSettings;
  /** Prints each run's span tree here (`--trace`). */
  readonly treeWriter?: (text: string) => void;
  /** One line about export trouble, at most once per process (stderr in the CLI). */
  readonly warn: (line: string) => void;
  /** Extra processors, e.g. a test's SimpleSpanProcessor(InMemorySpanExporter). */
  readonly spanProcessors?: readonly SpanProcessor[];
}

/** A running SDK: the Tracer port over it, and a shutdown that never rejects and never hangs. */
export interface OtelHandle {
  readonly tracer: Tracer;
  /** Sampled spans dropped so far because the export queue was full (for /metrics). */
  droppedSpans(): number;
  /** Flushes queued spans, waiting at most `settings.flushTimeoutMs`; safe to call twice. */
  shutdown(): Promise<void>;
}

/** Starts the SDK as the settings say. */
export function startOtel(options: OtelSetupOptions): OtelHandle {
  const { settings } = options;
  const report = onceReporter(options.warn);
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  const queue = new ExportQueue(settings.maxQueueSize, onceReporter(options.warn));
  if (settings.tracesUrl !== undefined) {
    const exporter = new OTLPTraceExporter({
      url: settings.tracesUrl,
      headers: { ...settings.headers },
      ...(settings.exportTimeoutMs === undefined ? {} : { timeoutMillis: settings.exportTimeoutMs }),
    });
    const batches = new BatchSpanProcessor(queue.exporter(reportingExporter(exporter, displayUrl(settings.tracesUrl), report)), {
      maxQueueSize: settings.maxQueueSize,
      maxExportBatchSize: settings.maxExportBatchSize,
    });
    processors.push(queue.processor(batches));
  }
  if (options.treeWriter) processors.push(treeProcessor(options.treeWriter));

  const presets = new Presets(buildSampler(settings, options.treeWriter !== undefined));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(settings.resource),
    sampler: presets,
    idGenerator: presets,
    spanProcessors: processors,
  });
  const tracer = createOtelTracer({
    spans: presets.lateSpans(provider.getTracer("skiff", buildInfo.version)),
    captureContent: settings.captureContent,
  });

  let closing: Promise<void> | undefined;
  const shutdown = async () => {
    const flushed = provider.shutdown().then(
      () => true,
      // The exporter wrapper has already said what went wrong.
      () => true,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), settings.flushTimeoutMs);
    });
    const finished = await Promise.race([flushed, expired]);
    clearTimeout(timer);
    if (!finished && settings.tracesUrl !== undefined) {
      report(`span export to ${displayUrl(settings.tracesUrl)} did not finish within ${settings.flushTimeoutMs}ms; the remaining spans are dropped`);
    }
  };
  return {
    tracer,
    droppedSpans: () => queue.dropped,
    shutdown: () => (closing ??= shutdown()),
  };
}

/**
 * Counts the spans the BatchSpanProcessor drops. Its queue holds the sampled spans that ended and
 * were not yet handed to the exporter, and it drops a span that ends while the queue is full,
 * telling only OpenTelemetry's diag logger (which nobody reads). Counting the same two events on
 * both sides of it gives the same number, so a drop is reported once on stderr and counted on
 * /metrics instead of going unseen.
 */
class ExportQueue {
  private queued = 0;
  dropped = 0;

  constructor(
    private readonly capacity: number,
    private readonly report: (message: string) => void,
  ) {}

  processor(inner: SpanProcessor): SpanProcessor {
    return {
      onStart: (span, context) => inner.onStart(span, context),
      onEnd: (span) => {
        if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0) {
          if (this.queued >= this.capacity) {
            this.dropped++;
            this.report(
              `spans are being dropped: ${this.capacity} were already waiting for export (otel.max_queue_size); the collector or this process cannot keep up. Raise otel.max_queue_size, or export fewer runs with otel.sampler_arg`,
            );
          } else {
            this.queued++;
          }
        }
        inner.onEnd(span);
      },
      forceFlush: () => inner.forceFlush(),
      shutdown: () => inner.shutdown(),
    };
  }

  exporter(inner: SpanExporter): SpanExporter {
    return {
      export: (spans, done) => {
        this.queued = Math.max(0, this.queued - spans.length);
        inner.export(spans, done);
      },
      shutdown: () => inner.shutdown(),
      ...(inner.forceFlush ? { forceFlush: () => inner.forceFlush!() } : {}),
    };
  }
}

/**
 * The sampler OTEL_TRACES_SAMPLER(_ARG) names. With `--trace`, spans a sampler drops are still
 * recorded (not sampled), so the tree shows every run while export keeps to the sampler: the
 * BatchSpanProcessor exports only sampled spans.
 */
function buildSampler(settings: OtelSettings, recordAll: boolean): Sampler {
  const ratio = new TraceIdRatioBasedSampler(settings.samplerRatio);
  const samplers: Record<OtelSettings["sampler"], Sampler> = {
    always_on: new AlwaysOnSampler(),
    always_off: new AlwaysOffSampler(),
    traceidratio: ratio,
    parentbased_always_on: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    parentbased_always_off: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
    parentbased_traceidratio: new ParentBasedSampler({ root: ratio }),
  };
  const sampler = samplers[settings.sampler];
  if (!recordAll) return sampler;
  return {
    shouldSample(...args) {
      const result = sampler.shouldSample(...args);
      return result.decision === SamplingDecision.NOT_RECORD ? { ...result, decision: SamplingDecision.RECORD } : result;
    },
    toString: () => `RecordAll{${sampler.toString()}}`,
  };
}

/**
 * The provider's id generator and sampler, to which a span's ids and sampling decision can be
 * given in advance: otel.ts creates SDK spans only when they end (see there), with the ids and the
 * decision it fixed when the run started. `tracer.startSpan` is synchronous and JS single-threaded,
 * so a preset set right before it is read by that span alone: each part once, and whatever is left
 * is cleared when it returns. Without a preset, ids are random and the configured sampler decides.
 */
class Presets implements IdGenerator, Sampler {
  private readonly random = new RandomIdGenerator();
  private readonly sampler: Sampler;
  private traceId: string | undefined;
  private spanId: string | undefined;
  private sampling: SamplingResult | undefined;

  constructor(sampler: Sampler) {
    this.sampler = sampler;
  }

  /** `tracer.startSpan` (the provider's tracer) with `preset`'s ids and sampling decision. */
  startSpan(tracer: ApiTracer, name: string, options: SpanOptions, context: Context, preset: SpanPreset): Span {
    this.traceId = preset.traceId;
    this.spanId = preset.spanId;
    this.sampling = preset.sampling;
    try {
      return tracer.startSpan(name, options, context);
    } finally {
      this.traceId = this.spanId = this.sampling = undefined;
    }
  }

  generateTraceId(): string {
    const id = this.traceId;
    this.traceId = undefined;
    return id ?? this.random.generateTraceId();
  }

  generateSpanId(): string {
    const id = this.spanId;
    this.spanId = undefined;
    return id ?? this.random.generateSpanId();
  }

  shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const sampling = this.sampling;
    this.sampling = undefined;
    return sampling ?? this.sampler.shouldSample(context, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return this.sampler.toString();
  }

  /** Random ids, the configured sampler, and preset span starts, for otel.ts. */
  lateSpans(tracer: ApiTracer): LateSpans {
    return {
      newTraceId: () => this.random.generateTraceId(),
      newSpanId: () => this.random.generateSpanId(),
      sample: (context, traceId, name, kind, attributes) => this.sampler.shouldSample(context, traceId, name, kind, attributes, []),
      startSpan: (name, options, context, preset) => this.startSpan(tracer, name, options, context, preset),
    };
  }
}

/** Reports at most one line per process: a collector that is down must not flood stderr. */
function onceReporter(warn: (line: string) => void): (message: string) => void {
  let reported = false;
  return (message) => {
    if (reported) return;
    reported = true;
    warn(`skiff: telemetry: ${message} (further export problems are not reported)\n`);
  };
}

/** Passes exports through, reporting the first failure. Never includes header values. */
function reportingExporter(inner: SpanExporter, target: string, report: (message: string) => void): SpanExporter {
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          report(`could not export ${spans.length} span(s) to ${target}: ${describeExportError(result.error)}`);
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

function describeExportError(error: Error | undefined): string {
  if (!error) return "the collector did not accept them";
  const { code } = error as { code?: unknown };
  // The OTLP exporter's HTTP errors carry the status as a number and the reason as the message.
  const text = typeof code === "number" ? `HTTP ${code} ${error.message}` : error.message || error.name;
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** Feeds every finished, recorded span to the console tree. */
function treeProcessor(write: (text: string) => void): SpanProcessor {
  const collector = createTreeCollector({ write });
  return {
    onStart() {},
    onEnd(span) {
      collector.add(toFinishedSpan(span));
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

function toFinishedSpan(span: ReadableSpan): FinishedSpan {
  const context = span.spanContext();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    startMs: span.startTime[0] * 1000 + span.startTime[1] / 1e6,
    endMs: span.endTime[0] * 1000 + span.endTime[1] / 1e6,
    attributes: span.attributes,
    errorMessage: span.status.message,
    isError: span.status.code === SpanStatusCode.ERROR,
  };
}
