/**
 * Batches ended spans for the OTLP exporter, with several exports in flight at once.
 *
 * Why not the SDK's BatchSpanProcessor: it sends one export at a time, so it drains at most one
 * batch per round trip to the collector, and under load that round trip waits behind the event
 * loop's other work. In benchmark B4 (10,000 concurrent runs, 70,000 spans in ~10 s) a 2,048-span
 * export took 0.1–1.1 s from hand-over to answer, the queue drained ~6,900 spans a second while
 * runs ended up to ~20,000 a second, and 2,000–10,000 spans were dropped (bench/README.md). Up to
 * `maxConcurrentExports` batches in flight drain that many times faster; the exporter is still
 * `@opentelemetry/exporter-trace-otlp-proto`, and batches still go out when `maxExportBatchSize`
 * spans wait or when the oldest has waited `scheduledDelayMs`.
 *
 * The queue holds the sampled spans not yet handed to the exporter, at most `maxQueueSize`; a span
 * that ends while it is full is dropped, counted and told to `onDrop` (the SDK tells only its diag
 * logger, which nobody reads).
 */
import { TraceFlags } from "@opentelemetry/api";
import type { ReadableSpan, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base";

/** Sizes and times of the batching, and who is told of a drop. */
export interface BatchExportOptions {
  /** Ended spans that may wait for export. */
  readonly maxQueueSize: number;
  /** Spans per export; at most maxQueueSize. */
  readonly maxExportBatchSize: number;
  /** Exports in flight at once. */
  readonly maxConcurrentExports: number;
  /** How long a span may wait for a batch to fill before what waits is sent anyway (the SDK's 5 s). */
  readonly scheduledDelayMs: number;
  /** An export that has not called back by then frees its slot (the SDK's 30 s); its spans are the exporter's. */
  readonly exportTimeoutMs: number;
  /** Called for every span dropped because the queue was full. */
  readonly onDrop: () => void;
}

/**
 * Exports in flight at once by default. B4 on a busy 2-core host saw 0.1–1.1 s per 2,048-span
 * export while runs ended up to ~20,000 spans a second: eight keep up with that (bench/README.md).
 * A batch in flight holds its serialized bytes (~0.7 MB for 2,048 spans), not its spans.
 */
export const defaultConcurrentExports = 8;

/** A span processor that batches sampled spans for an exporter (see the module comment). */
export class BatchExportProcessor implements SpanProcessor {
  readonly #exporter: SpanExporter;
  readonly #options: BatchExportOptions;
  #queue: ReadableSpan[] = [];
  #inFlight = 0;
  readonly #exports = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #shutdown: Promise<void> | undefined;
  /** Spans dropped so far because the queue was full. */
  dropped = 0;

  constructor(exporter: SpanExporter, options: BatchExportOptions) {
    this.#exporter = exporter;
    this.#options = { ...options, maxExportBatchSize: Math.max(1, Math.min(options.maxExportBatchSize, options.maxQueueSize)) };
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#shutdown !== undefined || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.#queue.length >= this.#options.maxQueueSize) {
      this.dropped++;
      this.#options.onDrop();
      return;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#options.maxExportBatchSize) this.#send(false);
    else this.#arm();
  }

  /** Sends everything queued now (as slots free up) and waits for it and the exports in flight. */
  async forceFlush(): Promise<void> {
    let left = this.#queue.length;
    while (left > 0 && this.#queue.length > 0) {
      while (left > 0 && this.#queue.length > 0 && this.#inFlight < this.#options.maxConcurrentExports) left -= this.#exportBatch();
      if (left > 0 && this.#exports.size > 0) await Promise.race(this.#exports);
    }
    await Promise.all(this.#exports);
  }

  /** Takes no more spans, sends what waits, then shuts the exporter down; safe to call twice. */
  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      await this.forceFlush();
      clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#exporter.shutdown();
    })();
    return this.#shutdown;
  }

  /** Starts exports while slots are free: full batches, or with `partial` whatever waits. */
  #send(partial: boolean): void {
    const { maxExportBatchSize, maxConcurrentExports } = this.#options;
    while (this.#inFlight < maxConcurrentExports && (this.#queue.length >= maxExportBatchSize || (partial && this.#queue.length > 0))) {
      this.#exportBatch();
    }
    if (this.#queue.length > 0) this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#send(true);
    }, this.#options.scheduledDelayMs);
    // Waiting spans must not keep a finished CLI process alive: exit flushes them (shutdown).
    this.#timer.unref?.();
  }

  /** Hands the oldest batch to the exporter; returns how many spans it took. */
  #exportBatch(): number {
    const size = this.#options.maxExportBatchSize;
    let spans: ReadableSpan[];
    if (this.#queue.length <= size) {
      spans = this.#queue;
      this.#queue = [];
    } else {
      spans = this.#queue.splice(0, size);
    }
    this.#inFlight++;
    let settle!: () => void;
    const exported = new Promise<void>((resolve) => (settle = resolve));
    this.#exports.add(exported);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(guard);
      this.#inFlight--;
      this.#exports.delete(exported);
      settle();
      // A freed slot takes the next full batch at once; a partial one waits for the timer.
      if (this.#shutdown === undefined) this.#send(false);
    };
    const guard = setTimeout(finish, this.#options.exportTimeoutMs);
    guard.unref?.();
    try {
      // The result needs no handling here: the exporter given to startOtel reports failures.
      this.#exporter.export(spans, finish);
    } catch {
      finish();
    }
    return spans.length;
  }
}
