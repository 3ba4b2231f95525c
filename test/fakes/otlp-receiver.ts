/**
 * A fake OTLP/HTTP collector for tests: Bun.serve on 127.0.0.1:0 that accepts POSTs of
 * ExportTraceServiceRequest protobuf (gzip or not), decodes them with otlp-decode.ts, and records
 * headers and spans. It can misbehave on purpose: answer 500, hang without answering, or be
 * stopped so its port refuses connections.
 *
 * @example
 * const receiver = await startOtlpReceiver();
 * // run skiff with --otlp-endpoint receiver.url …
 * await receiver.waitForSpans(6);
 * await receiver.stop();
 */
import { type AttributeValue, decodeRequest, responseType } from "./otlp-decode.ts";

/** An attribute value as decoded from OTLP AnyValue (the type ReceivedSpan's attributes use). */
export type { AttributeValue };

/** How the receiver answers. */
export type ReceiverMode = "ok" | "error500" | "hang";

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

/** Decodes one ExportTraceServiceRequest body into flat spans, in the receiver's shape. */
export function decodeSpans(body: Uint8Array): ReceivedSpan[] {
  return decodeRequest(body).map((span) => {
    // A span without its ids is no span: the receiver answers 400, as it always has.
    if (span.traceId === "" || span.spanId === "") throw new Error(`span "${span.name}" has no trace id or span id`);
    return {
      traceId: span.traceId,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId === "" ? undefined : span.parentSpanId,
      name: span.name,
      kind: span.kind,
      startNs: BigInt(span.startNs),
      endNs: BigInt(span.endNs),
      attributes: span.attributes,
      status: span.status,
      resource: span.resource,
      resourceSchemaUrl: span.resourceSchemaUrl,
      scope: span.scope,
    };
  });
}
