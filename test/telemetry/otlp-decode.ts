/**
 * Decodes an OTLP/HTTP ExportTraceServiceRequest body completely: every field of every span,
 * events, links and dropped counts included (the fake receiver's ReceivedSpan keeps only what the
 * end-to-end tests read). Uses the same otlp-trace.proto, through protobufjs.
 */
import { join } from "node:path";
import * as protobuf from "protobufjs";
import { type AttributeValue, attributesOf, type DecodedKeyValue } from "../fakes/otlp-receiver.ts";

const root = protobuf.loadSync(join(import.meta.dir, "..", "fakes", "otlp-trace.proto"));
const requestType = root.lookupType("skiff.test.otlp.ExportTraceServiceRequest");

/** A decoded attribute value, as the fake receiver decodes it. */
export type Value = AttributeValue;

/** One exported event. */
export interface DecodedEvent {
  readonly name: string;
  readonly timeNs: string;
  readonly attributes: Readonly<Record<string, Value>>;
  readonly droppedAttributesCount: number;
}

/** One exported span, every field. */
export interface DecodedSpan {
  readonly resource: Readonly<Record<string, Value>>;
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
  readonly attributes: Readonly<Record<string, Value>>;
  readonly droppedAttributesCount: number;
  readonly events: readonly DecodedEvent[];
  readonly droppedEventsCount: number;
  readonly links: number;
  readonly droppedLinksCount: number;
  readonly status: { readonly code: number; readonly message: string };
}

type RawKeyValue = DecodedKeyValue;
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
  attributes?: RawKeyValue[];
  droppedAttributesCount?: number;
  events?: { timeUnixNano?: string; name?: string; attributes?: RawKeyValue[]; droppedAttributesCount?: number }[];
  droppedEventsCount?: number;
  links?: unknown[];
  droppedLinksCount?: number;
  status?: { code?: number; message?: string };
}
interface RawRequest {
  resourceSpans?: {
    resource?: { attributes?: RawKeyValue[] };
    schemaUrl?: string;
    scopeSpans?: { scope?: { name?: string; version?: string }; schemaUrl?: string; spans?: RawSpan[] }[];
  }[];
}

/** Every span of one request body, in the order they were sent. */
export function decodeRequest(body: Uint8Array): DecodedSpan[] {
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

function hex(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? "" : Buffer.from(bytes).toString("hex");
}

/** A collector on 127.0.0.1 that keeps each request body as sent. */
export interface OtlpCapture {
  /** The traces URL to export to. */
  readonly tracesUrl: string;
  /** Each request body, in arrival order. */
  readonly bodies: Uint8Array[];
  /** Every span of every body, decoded. */
  spans(): DecodedSpan[];
  stop(): Promise<void>;
}

/** Starts a capturing collector on a free loopback port. */
export function captureOtlp(): OtlpCapture {
  const bodies: Uint8Array[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      bodies.push(new Uint8Array(await request.arrayBuffer()));
      return new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
    },
  });
  return {
    tracesUrl: `http://127.0.0.1:${server.port}/v1/traces`,
    bodies,
    spans: () => bodies.flatMap(decodeRequest),
    stop: () => server.stop(true),
  };
}
