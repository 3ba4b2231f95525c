/**
 * Decodes an OTLP/HTTP ExportTraceServiceRequest body completely, through protobufjs against
 * otlp-trace.proto (loaded here and nowhere else): every field of every span, events, links and
 * dropped counts included. The fake receiver (otlp-receiver.ts) keeps only what the end-to-end
 * tests read; the telemetry tests pin all of it.
 */
import { join } from "node:path";
import * as protobuf from "protobufjs";

const root = protobuf.loadSync(join(import.meta.dir, "otlp-trace.proto"));
const requestType = root.lookupType("skiff.test.otlp.ExportTraceServiceRequest");

/** The ExportTraceServiceResponse message, for a collector's reply. */
export const responseType = root.lookupType("skiff.test.otlp.ExportTraceServiceResponse");

/** An attribute value as decoded from OTLP AnyValue. */
export type AttributeValue = string | number | boolean | readonly AttributeValue[] | { readonly [key: string]: AttributeValue } | null;

/** One exported event. */
export interface DecodedEvent {
  readonly name: string;
  readonly timeNs: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly droppedAttributesCount: number;
}

/** One exported span, every field; ids in hex ("" when absent), times in ns as decimal strings. */
export interface DecodedSpan {
  readonly resource: Readonly<Record<string, AttributeValue>>;
  readonly resourceSchemaUrl: string;
  readonly scope: { readonly name: string; readonly version: string; readonly schemaUrl: string };
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly flags: number;
  readonly name: string;
  readonly kind: number;
  readonly startNs: string;
  readonly endNs: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly droppedAttributesCount: number;
  readonly events: readonly DecodedEvent[];
  readonly droppedEventsCount: number;
  readonly links: number;
  readonly droppedLinksCount: number;
  readonly status: { readonly code: number; readonly message: string };
}

/** One attribute as protobufjs decodes it. */
export interface DecodedKeyValue {
  key: string;
  value?: DecodedAnyValue;
}
interface DecodedAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  arrayValue?: { values?: DecodedAnyValue[] };
  kvlistValue?: { values?: DecodedKeyValue[] };
  bytesValue?: Uint8Array;
}
interface RawSpan {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  parentSpanId?: Uint8Array;
  traceState?: string;
  flags?: number;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: DecodedKeyValue[];
  droppedAttributesCount?: number;
  events?: { timeUnixNano?: string; name?: string; attributes?: DecodedKeyValue[]; droppedAttributesCount?: number }[];
  droppedEventsCount?: number;
  links?: unknown[];
  droppedLinksCount?: number;
  status?: { code?: number; message?: string };
}
interface RawRequest {
  resourceSpans?: {
    resource?: { attributes?: DecodedKeyValue[] };
    schemaUrl?: string;
    scopeSpans?: { scope?: { name?: string; version?: string }; schemaUrl?: string; spans?: RawSpan[] }[];
  }[];
}

/** Every span of one request body, in the order they were sent. */
export function decodeRequest(body: Uint8Array): DecodedSpan[] {
  // 64-bit integers as decimal strings (times in ns exceed 2^53); bytes stay Uint8Array.
  const raw = requestType.toObject(requestType.decode(body), { longs: String, enums: Number, defaults: false }) as RawRequest;
  const out: DecodedSpan[] = [];
  for (const resourceSpans of raw.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    const resourceSchemaUrl = resourceSpans.schemaUrl ?? "";
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      const scope = { name: scopeSpans.scope?.name ?? "", version: scopeSpans.scope?.version ?? "", schemaUrl: scopeSpans.schemaUrl ?? "" };
      for (const span of scopeSpans.spans ?? []) {
        out.push({
          resource,
          resourceSchemaUrl,
          scope,
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          traceState: span.traceState ?? "",
          flags: span.flags ?? 0,
          name: span.name ?? "",
          kind: span.kind ?? 0,
          startNs: span.startTimeUnixNano ?? "0",
          endNs: span.endTimeUnixNano ?? "0",
          attributes: attributesOf(span.attributes),
          droppedAttributesCount: span.droppedAttributesCount ?? 0,
          events: (span.events ?? []).map((event) => ({
            name: event.name ?? "",
            timeNs: event.timeUnixNano ?? "0",
            attributes: attributesOf(event.attributes),
            droppedAttributesCount: event.droppedAttributesCount ?? 0,
          })),
          droppedEventsCount: span.droppedEventsCount ?? 0,
          links: span.links?.length ?? 0,
          droppedLinksCount: span.droppedLinksCount ?? 0,
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? "" },
        });
      }
    }
  }
  return out;
}

/** Decoded attributes as a plain object; 64-bit integers as numbers (tests use small ones). */
export function attributesOf(list: readonly DecodedKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) out[key] = valueOf(value);
  return out;
}

function valueOf(value: DecodedAnyValue | undefined): AttributeValue {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(valueOf);
  if (value.kvlistValue !== undefined) return attributesOf(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return hex(value.bytesValue);
  return null;
}

/** Bytes as lowercase hex; "" for a field that was not sent. */
export function hex(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? "" : Buffer.from(bytes).toString("hex");
}
