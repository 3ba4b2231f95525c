/**
 * A collector on 127.0.0.1 that keeps each OTLP/HTTP request body as sent (no gunzip, no
 * decoding on arrival), so a test can pin the bytes and decode them afterwards.
 */
import { type DecodedSpan, decodeRequest } from "../fakes/otlp-decode.ts";

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
