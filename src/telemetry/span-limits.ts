/**
 * The span limits of the OpenTelemetry SDK, applied by skiff itself to the spans it hands to the
 * processors (spans no longer pass through the SDK's Span, which applied them before). The
 * variables, their precedence and defaults are those of @opentelemetry/sdk-trace-base 2.x
 * (BasicTracerProvider: `loadDefaultConfig` + `reconfigureLimits`), read with the SDK's own
 * `getNumberFromEnv`; cutting and dropping follow its `SpanImpl.setAttribute` and `addEvent`.
 */
import type { Attributes, AttributeValue } from "@opentelemetry/api";
import { getNumberFromEnv } from "@opentelemetry/core";
import type { TimedEvent } from "@opentelemetry/sdk-trace-base";

/** The limits skiff's spans are held to; every field is set (the SDK's type has them optional). */
export interface SpanLimits {
  /** Attributes per span; later keys past it are dropped and counted. */
  readonly attributeCountLimit: number;
  /** Characters of a string attribute value (and of each string in an array); Infinity for none. */
  readonly attributeValueLengthLimit: number;
  /** Events per span; the oldest are dropped and counted. */
  readonly eventCountLimit: number;
  /** Attributes per event; later keys are dropped and counted on the event. */
  readonly attributePerEventCountLimit: number;
  /** Links per span. skiff records no links, so this never cuts anything; kept for completeness. */
  readonly linkCountLimit: number;
}

/** The SDK's defaults, which apply when no variable says otherwise. */
export const defaultSpanLimits: SpanLimits = {
  attributeCountLimit: 128,
  attributeValueLengthLimit: Infinity,
  eventCountLimit: 128,
  attributePerEventCountLimit: 128,
  linkCountLimit: 128,
};

/**
 * The limits from the environment, as the SDK read them: the span-specific variable, else the
 * general one (count and length only), else the default. A value that is not a number is
 * ignored (the SDK logs it to its diag logger and uses the default).
 */
export function spanLimitsFromEnv(read: (name: string) => number | undefined = getNumberFromEnv): SpanLimits {
  return {
    attributeCountLimit: read("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT") ?? read("OTEL_ATTRIBUTE_COUNT_LIMIT") ?? defaultSpanLimits.attributeCountLimit,
    attributeValueLengthLimit:
      read("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT") ?? read("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT") ?? defaultSpanLimits.attributeValueLengthLimit,
    eventCountLimit: read("OTEL_SPAN_EVENT_COUNT_LIMIT") ?? defaultSpanLimits.eventCountLimit,
    attributePerEventCountLimit: read("OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT") ?? defaultSpanLimits.attributePerEventCountLimit,
    linkCountLimit: read("OTEL_SPAN_LINK_COUNT_LIMIT") ?? defaultSpanLimits.linkCountLimit,
  };
}

/** Attributes after the limits, and how many keys were dropped. */
export interface LimitedAttributes {
  readonly attributes: Attributes;
  readonly dropped: number;
}

/** An event as recorded while its span was open: epoch ms, attributes as given. */
export interface RecordedEvent {
  readonly name: string;
  readonly attributes: Attributes | undefined;
  readonly time: number;
}

/**
 * A span's attributes within the limits: the first `attributeCountLimit` keys in the order they
 * were set, string values cut to `attributeValueLengthLimit`. Returns the same object when
 * nothing needs cutting, which is the usual case (skiff's spans carry about ten attributes).
 */
export function limitAttributes(attributes: Attributes, limits: SpanLimits): LimitedAttributes {
  const maxLength = limits.attributeValueLengthLimit;
  let count = 0;
  let tooLong = false;
  for (const key in attributes) {
    count++;
    if (!tooLong && maxLength > 0 && exceeds(attributes[key], maxLength)) tooLong = true;
  }
  if (count <= limits.attributeCountLimit && !tooLong) return { attributes, dropped: 0 };
  return copyWithin(attributes, limits.attributeCountLimit, maxLength);
}

/**
 * Events within the limits, as TimedEvents: past `eventCountLimit` the oldest are dropped (the
 * SDK shifts one out for each one added), and each keeps its first `attributePerEventCountLimit`
 * attributes, values cut like a span's. Times become HrTime with `toHrTime`.
 */
export function limitEvents(
  events: readonly RecordedEvent[],
  limits: SpanLimits,
  toHrTime: (epochMs: number) => TimedEvent["time"],
): { readonly events: TimedEvent[]; readonly dropped: number } {
  const kept: TimedEvent[] = [];
  let dropped = 0;
  for (const event of events) {
    // The SDK's addEvent, step for step, so odd limits (0, negative) behave as they did.
    if (limits.eventCountLimit === 0) {
      dropped++;
      continue;
    }
    if (kept.length >= limits.eventCountLimit) {
      kept.shift();
      dropped++;
    }
    const { attributes, dropped: droppedAttributes } = copyWithin(event.attributes ?? {}, limits.attributePerEventCountLimit, limits.attributeValueLengthLimit);
    kept.push({ name: event.name, attributes, time: toHrTime(event.time), droppedAttributesCount: droppedAttributes });
  }
  return { events: kept, dropped };
}

/** A copy holding the first `maxCount` set values, strings cut to `maxLength` (≤ 0: uncut). */
function copyWithin(attributes: Attributes, maxCount: number, maxLength: number): LimitedAttributes {
  const out: Attributes = {};
  let count = 0;
  let dropped = 0;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    if (count >= maxCount) {
      dropped++;
      continue;
    }
    out[key] = maxLength > 0 ? cut(value, maxLength) : value;
    count++;
  }
  return { attributes: out, dropped };
}

function exceeds(value: AttributeValue | undefined, maxLength: number): boolean {
  if (typeof value === "string") return value.length > maxLength;
  return Array.isArray(value) && value.some((item) => typeof item === "string" && item.length > maxLength);
}

function cut(value: AttributeValue, maxLength: number): AttributeValue {
  if (typeof value === "string") return value.length <= maxLength ? value : value.substring(0, maxLength);
  if (Array.isArray(value)) return value.map((item: unknown) => (typeof item === "string" && item.length > maxLength ? item.substring(0, maxLength) : item)) as AttributeValue;
  return value;
}
