/**
 * A fake OTLP/HTTP collector for tests: Bun.serve on 127.0.0.1:0 that accepts POSTs of
 * ExportTraceServiceRequest protobuf (gzip or not), decodes them with protobufjs against
 * otlp-trace.proto, and records headers and spans. It can misbehave on purpose: answer 500, hang
 * without answering, or be stopped so its port refuses connections.
 *
 * @example
 * const receiver = await startOtlpReceiver();
 * // run skiff with --otlp-endpoint receiver.url …
 * await receiver.waitForSpans(6);
 * await receiver.stop();
 */
import { join } from "node:path";
import * as protobuf from "protobufjs";

/** How the receiver answers. */
export type ReceiverMode = "ok" | "error500" | "hang";

/** An attribute value as decoded from OTLP AnyValue. */
export type AttributeValue = string | number | boolean | readonly AttributeValue[] | { readonly [key: string]: AttributeValue } | null;

/** One span as received, with ids in hex. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Undefined for a root span. */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP SpanKind: 1 INTERNAL, 2 SERVER, 3 CLIENT. */
  readonly kind: number;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** OTLP StatusCode: 0 UNSET, 1 OK, 2 ERROR. */
  readonly status: { readonly code: number; readonly message: string };
  readonly resource: Readonly<Record<string, AttributeValue>>;
  /** The schema URL of the resource ("" when none was sent). */
  readonly resourceSchemaUrl: string;
  readonly scope: { readonly name: string; readonly version: string; readonly schemaUrl: string };
}

/** One export request as received. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly spans: readonly ReceivedSpan[];
}

export interface OtlpReceiver {
  /** Base URL, e.g. `http://127.0.0.1:43123` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly requests: readonly ReceivedRequest[];
  /** Every span of every request, in arrival order. */
  spans(): ReceivedSpan[];
  setMode(mode: ReceiverMode): void;
  /** Resolves once `count` spans have arrived; rejects after `timeoutMs`. */
  waitForSpans(count: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Stops listening (later connections are refused) and releases hanging requests. */
  stop(): Promise<void>;
}

const root = protobuf.loadSync(join(import.meta.dir, "otlp-trace.proto"));
const requestType = root.lookupType("skiff.test.otlp.ExportTraceServiceRequest");
const responseType = root.lookupType("skiff.test.otlp.ExportTraceServiceResponse");

/** Starts a receiver on a free loopback port. */
export async function startOtlpReceiver(initialMode: ReceiverMode = "ok"): Promise<OtlpReceiver> {
  let mode = initialMode;
  const requests: ReceivedRequest[] = [];
  const hanging: (() => void)[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    // A hanging request must stay open for as long as the test wants, not Bun's default 10 s.
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const headers = Object.fromEntries(request.headers.entries());
      let body = new Uint8Array(await request.arrayBuffer());
      if (headers["content-encoding"] === "gzip") body = Bun.gunzipSync(body);
      let spans: ReceivedSpan[];
      try {
        spans = decodeSpans(body);
      } catch (error) {
        return new Response(`cannot decode: ${String(error)}`, { status: 400 });
      }
      requests.push({ method: request.method, path: url.pathname, headers, spans });
      if (mode === "error500") return new Response("collector broke", { status: 500 });
      if (mode === "hang") {
        return new Promise<Response>((resolve) => hanging.push(() => resolve(new Response(null, { status: 503 }))));
      }
      const reply = responseType.encode(responseType.create({})).finish();
      return new Response(reply, { headers: { "content-type": "application/x-protobuf" } });
    },
  });
  const port = server.port!;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    spans: () => requests.flatMap((request) => request.spans),
    setMode(next) {
      mode = next;
    },
    async waitForSpans(count, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const spans = requests.flatMap((request) => request.spans);
        if (spans.length >= count) return spans;
        if (Date.now() > until) throw new Error(`expected ${count} spans, got ${spans.length} within ${timeoutMs}ms`);
        await Bun.sleep(20);
      }
    },
    async stop() {
      for (const release of hanging.splice(0)) release();
      await server.stop(true);
    },
  };
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
interface DecodedSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId?: Uint8Array;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: DecodedKeyValue[];
  status?: { code?: number; message?: string };
}
interface DecodedRequest {
  resourceSpans?: {
    resource?: { attributes?: DecodedKeyValue[] };
    schemaUrl?: string;
    scopeSpans?: { scope?: { name?: string; version?: string }; schemaUrl?: string; spans?: DecodedSpan[] }[];
  }[];
}

/** Decodes one ExportTraceServiceRequest body into flat spans. */
export function decodeSpans(body: Uint8Array): ReceivedSpan[] {
  const message = requestType.decode(body);
  // 64-bit integers as decimal strings (times in ns exceed 2^53); bytes stay Uint8Array.
  const decoded = requestType.toObject(message, { longs: String, enums: Number, defaults: false }) as DecodedRequest;
  const out: ReceivedSpan[] = [];
  for (const resourceSpans of decoded.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    const resourceSchemaUrl = resourceSpans.schemaUrl ?? "";
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      const scope = { name: scopeSpans.scope?.name ?? "", version: scopeSpans.scope?.version ?? "", schemaUrl: scopeSpans.schemaUrl ?? "" };
      for (const span of scopeSpans.spans ?? []) {
        out.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: span.parentSpanId && span.parentSpanId.length > 0 ? hex(span.parentSpanId) : undefined,
          name: span.name ?? "",
          kind: span.kind ?? 0,
          startNs: BigInt(span.startTimeUnixNano ?? "0"),
          endNs: BigInt(span.endTimeUnixNano ?? "0"),
          attributes: attributesOf(span.attributes),
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? "" },
          resource,
          resourceSchemaUrl,
          scope,
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

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
