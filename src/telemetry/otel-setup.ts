/**
 * Sets up OpenTelemetry export for one process: skiff's resource, the configured sampler, an
 * OTLP/HTTP-protobuf exporter behind a batching processor (batch-export.ts), and the `--trace`
 * tree fed from the same spans. otel.ts records spans itself and hands each finished one (a
 * ReadableSpan) to these processors' onEnd; no SDK TracerProvider or Tracer is created, so
 * processors never see onStart.
 * No globals are registered (no global provider, no context manager). Imports are static,
 * because `bun build --compile` drops exporters loaded by dynamic require
 * (anthropics/claude-code#50567).
 */
import { ExportResultCode, getNumberFromEnv, SDK_INFO } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { RandomIdGenerator, type ReadableSpan, type SpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { SpanStatusCode } from "@opentelemetry/api";
import { buildInfo } from "../build-info.ts";
import { BatchExportProcessor, defaultConcurrentExports } from "./batch-export.ts";
import { createOtelTracer } from "./otel.ts";
import { redactUrl } from "../util/redact-url.ts";
import type { OtelSettings } from "./otel-settings.ts";
import { buildSampler } from "./sampler.ts";
import * as sc from "./semconv.ts";
import { type SpanLimits, spanLimitsFromEnv } from "./span-limits.ts";
import { createTreeCollector, type FinishedSpan } from "./tree.ts";
import type { Tracer } from "./tracer.ts";

/** What startOtel needs: resolved settings and where to print. */
export interface OtelSetupOptions {
  readonly settings: OtelSettings;
  /** Prints each run's span tree here (`--trace`). */
  readonly treeWriter?: (text: string) => void;
  /** One line about export trouble, at most once per process (stderr in the CLI). */
  readonly warn: (line: string) => void;
  /** Extra processors, e.g. a test's SimpleSpanProcessor(InMemorySpanExporter); only onEnd is called. */
  readonly spanProcessors?: readonly SpanProcessor[];
  /** The span limits; by default read from OTEL_SPAN_* / OTEL_ATTRIBUTE_* as the SDK reads them. */
  readonly spanLimits?: SpanLimits;
  /** The configured system prompt (`system`): only it becomes `gen_ai.system_instructions`. */
  readonly systemPrompt?: string;
  /** Exports in flight at once (default `defaultConcurrentExports`). */
  readonly maxConcurrentExports?: number;
}

/** Telemetry running: the Tracer port over it, and a shutdown that never rejects and never hangs. */
export interface OtelHandle {
  readonly tracer: Tracer;
  /** Sampled spans dropped so far because the export queue was full (for /metrics). */
  droppedSpans(): number;
  /** Flushes queued spans, waiting at most `settings.flushTimeoutMs`; safe to call twice. */
  shutdown(): Promise<void>;
}

/** Starts span recording and export as the settings say. */
export function startOtel(options: OtelSetupOptions): OtelHandle {
  const { settings } = options;
  const report = onceReporter(options.warn);
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  let batches: BatchExportProcessor | undefined;
  if (settings.tracesUrl !== undefined) {
    const exporter = new OTLPTraceExporter({
      url: settings.tracesUrl,
      headers: { ...settings.headers },
      ...(settings.exportTimeoutMs === undefined ? {} : { timeoutMillis: settings.exportTimeoutMs }),
    });
    const reportDrop = onceReporter(options.warn);
    batches = new BatchExportProcessor(reportingExporter(exporter, redactUrl(settings.tracesUrl), report), {
      maxQueueSize: settings.maxQueueSize,
      maxExportBatchSize: settings.maxExportBatchSize,
      maxConcurrentExports: options.maxConcurrentExports ?? defaultConcurrentExports,
      // As the SDK's BatchSpanProcessor reads them, with its defaults.
      scheduledDelayMs: getNumberFromEnv("OTEL_BSP_SCHEDULE_DELAY") ?? 5_000,
      exportTimeoutMs: getNumberFromEnv("OTEL_BSP_EXPORT_TIMEOUT") ?? 30_000,
      onDrop: () =>
        reportDrop(
          `spans are being dropped: ${settings.maxQueueSize} were already waiting for export (otel.max_queue_size); the collector or this process cannot keep up. Raise otel.max_queue_size, or export fewer runs with otel.sampler_arg`,
        ),
    });
    processors.push(batches);
  }
  if (options.treeWriter) processors.push(treeProcessor(options.treeWriter));

  const limits = options.spanLimits ?? spanLimitsFromEnv();
  const tracer = createOtelTracer({
    sampler: buildSampler(settings, options.treeWriter !== undefined),
    ids: new RandomIdGenerator(),
    output: {
      resource: resourceFromAttributes(resourceAttributes(settings), { schemaUrl: sc.SCHEMA_URL }),
      scope: { name: "skiff", version: buildInfo.version, schemaUrl: sc.SCHEMA_URL },
      limits,
      onEnd: (span) => {
        for (const processor of processors) processor.onEnd(span);
      },
    },
    captureContent: settings.captureContent,
    openInference: settings.openInference,
    maxContentBytes: contentLimit(settings.maxAttributeBytes, limits),
    systemPrompt: options.systemPrompt,
  });

  let closing: Promise<void> | undefined;
  const shutdown = async () => {
    const flushed = Promise.all(processors.map((processor) => processor.shutdown())).then(
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
      report(`span export to ${redactUrl(settings.tracesUrl)} did not finish within ${settings.flushTimeoutMs}ms; the remaining spans are dropped`);
    }
  };
  return {
    tracer,
    droppedSpans: () => batches?.dropped ?? 0,
    shutdown: () => (closing ??= shutdown()),
  };
}

/**
 * The resource: the configured attributes, then the SDK the spans go out through (the
 * OpenTelemetry JS exporter) and skiff as its distribution, which the configuration cannot
 * override: they say what produced the data.
 */
function resourceAttributes(settings: OtelSettings): Record<string, string> {
  return {
    ...settings.resource,
    [sc.ATTR_TELEMETRY_SDK_NAME]: String(SDK_INFO[sc.ATTR_TELEMETRY_SDK_NAME]),
    [sc.ATTR_TELEMETRY_SDK_LANGUAGE]: String(SDK_INFO[sc.ATTR_TELEMETRY_SDK_LANGUAGE]),
    [sc.ATTR_TELEMETRY_SDK_VERSION]: String(SDK_INFO[sc.ATTR_TELEMETRY_SDK_VERSION]),
    [sc.ATTR_TELEMETRY_DISTRO_NAME]: "skiff",
    [sc.ATTR_TELEMETRY_DISTRO_VERSION]: buildInfo.version,
  };
}

/**
 * The byte limit content attributes are fitted to (0: none): `[otel] max_attribute_bytes`, and
 * no more than the SDK's attribute value length limit, so that limit (which cuts blindly, in
 * characters) never has to cut a JSON value: a value within N bytes is within N characters.
 */
function contentLimit(maxAttributeBytes: number, limits: SpanLimits): number {
  const lengthLimit = limits.attributeValueLengthLimit > 0 && Number.isFinite(limits.attributeValueLengthLimit) ? limits.attributeValueLengthLimit : 0;
  if (maxAttributeBytes > 0 && lengthLimit > 0) return Math.min(maxAttributeBytes, lengthLimit);
  return maxAttributeBytes > 0 ? maxAttributeBytes : lengthLimit;
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
      // The count, not the spans: a batch in flight is held as its serialized bytes only.
      const count = spans.length;
      inner.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          report(`could not export ${count} span(s) to ${target}: ${describeExportError(result.error)}`);
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
  // A fetch error may quote the collector URL, credentials and all.
  const line = redactUrl(text).replace(/\s+/g, " ").trim();
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
    events: span.events,
  };
}
