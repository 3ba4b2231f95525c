/**
 * A finished span in the SDK's public `ReadableSpan` shape, which span processors, the OTLP
 * exporter and the `--trace` tree read. skiff builds one when an operation ends, from the record
 * it kept while the operation ran (otel.ts), and hands it to the processors: no SDK Tracer or
 * Span is involved. What the SDK's Span did on the way (span limits, HrTime conversion, an end
 * before the start clamped to the start) is done here, with the SDK's public helpers.
 */
import { type Attributes, type HrTime, type Link, type SpanContext, type SpanKind, type SpanStatus, SpanStatusCode } from "@opentelemetry/api";
import { hrTimeDuration, type InstrumentationScope, millisToHrTime } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";
import { limitAttributes, limitEvents, type RecordedEvent, type SpanLimits } from "./span-limits.ts";

/** Where finished spans go, and what every one of them shares. */
export interface SpanOutput {
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
  readonly limits: SpanLimits;
  /** Hands a finished span to every span processor, in order. */
  readonly onEnd: (span: ReadableSpan) => void;
}

/** Everything a span is made of once its operation has ended; times are epoch ms. */
export interface EndedSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly context: SpanContext;
  /** The parent's context; undefined for a root span. */
  readonly parent: SpanContext | undefined;
  readonly attributes: Attributes;
  readonly events: readonly RecordedEvent[] | undefined;
  /** Undefined leaves the status UNSET. */
  readonly status: SpanStatus | undefined;
  readonly startTime: number;
  readonly endTime: number;
}

// Shared by every span: nothing downstream writes to a finished span.
const unset: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const none: never[] = [];

/** A finished span as processors and exporters read it. */
export class ExportedSpan implements ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly droppedAttributesCount: number;
  readonly events: TimedEvent[];
  readonly droppedEventsCount: number;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  private readonly context: SpanContext;

  constructor(span: EndedSpan, output: SpanOutput) {
    this.name = span.name;
    this.kind = span.kind;
    this.context = span.context;
    this.parentSpanContext = span.parent;
    const start = millisToHrTime(span.startTime);
    const end = millisToHrTime(span.endTime);
    this.startTime = start;
    // As the SDK's Span.end: an end before the start becomes the start.
    this.endTime = hrTimeDuration(start, end)[0] < 0 ? start : end;
    this.status = span.status ?? unset;
    const attributes = limitAttributes(span.attributes, output.limits);
    this.attributes = attributes.attributes;
    this.droppedAttributesCount = attributes.dropped;
    if (span.events === undefined) {
      this.events = none;
      this.droppedEventsCount = 0;
    } else {
      const events = limitEvents(span.events, output.limits, millisToHrTime);
      this.events = events.events;
      this.droppedEventsCount = events.dropped;
    }
    this.resource = output.resource;
    this.instrumentationScope = output.scope;
  }

  spanContext(): SpanContext {
    return this.context;
  }

  get duration(): HrTime {
    return hrTimeDuration(this.startTime, this.endTime);
  }

  get ended(): boolean {
    return true;
  }

  /** skiff records no links. */
  get links(): Link[] {
    return none;
  }

  get droppedLinksCount(): number {
    return 0;
  }
}
