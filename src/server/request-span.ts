/**
 * The SERVER span around a request that runs the agent: what the tracer is told about the
 * request, and how the run started by the route ends up under the span. The routes read the
 * run's parent from the request's `traceparent` header (trace-context.ts), so the header is set
 * to this span's traceparent: the run becomes its child, and the span the child of the caller's
 * traceparent, without the routes knowing the span exists.
 */
import type { RequestSpan, Tracer } from "../telemetry/tracer.ts";
import { traceparentOf } from "./trace-context.ts";

/**
 * Opens the span of `req` on `route` (a pattern such as `/v1/runs`), or returns undefined when
 * the tracer records no requests (telemetry off: nothing is created).
 */
export function openRequestSpan(tracer: Tracer, req: Request, route: string, path: string): RequestSpan | undefined {
  if (tracer.startRequest === undefined) return undefined;
  const caller = traceparentOf(req);
  const host = hostOf(req.headers.get("host"));
  const scheme = req.url.startsWith("https:") ? "https" : req.url.startsWith("http:") ? "http" : undefined;
  const userAgent = req.headers.get("user-agent");
  const span = tracer.startRequest({
    method: req.method,
    route,
    path,
    ...(scheme === undefined ? {} : { scheme }),
    ...(host === undefined ? {} : { serverAddress: host.address, ...(host.port === undefined ? {} : { serverPort: host.port }) }),
    ...(userAgent === null ? {} : { userAgent }),
    ...(caller === undefined ? {} : { traceparent: caller }),
  });
  if (span.traceparent !== undefined) req.headers.set("traceparent", span.traceparent);
  return span;
}

/** The address and port of a Host header (`example.com:8080`, `[::1]:8080`, `example.com`). */
export function hostOf(header: string | null): { address: string; port: number | undefined } | undefined {
  const host = header?.trim();
  if (!host) return undefined;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host);
  if (!match) return undefined;
  // IPv6 without brackets, as server.address wants.
  const address = match[1]!.replace(/^\[(.*)\]$/, "$1");
  const port = match[2] === undefined ? undefined : Number(match[2]);
  return { address, port: port !== undefined && port <= 65_535 ? port : undefined };
}
