/**
 * W3C Trace Context `traceparent` headers (https://www.w3.org/TR/trace-context/#traceparent-header),
 * parsed and written without the OTel propagator so callers outside telemetry/ can use them too.
 */

/** The parts of a traceparent that matter for joining a trace. */
export interface TraceParent {
  /** 32 lowercase hex characters, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex characters, not all zero. */
  readonly spanId: string;
  /** Whether the caller sampled its span (flag bit 0). */
  readonly sampled: boolean;
}

const pattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Reads a traceparent, or returns undefined when it is malformed (a bad header starts a new
 * trace rather than failing the run). Future versions are read by their first four fields.
 */
export function parseTraceparent(header: string): TraceParent | undefined {
  const match = pattern.exec(header.trim().toLowerCase());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampled: (Number.parseInt(flags!, 16) & 1) === 1 };
}

/** Writes a version-00 traceparent. */
export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${parent.sampled ? "01" : "00"}`;
}
