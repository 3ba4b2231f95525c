/**
 * What the OpenTelemetry adapter of the Tracer port needs (otel-setup.ts builds it), shared by
 * its run spans (otel.ts) and request spans (request-span.ts).
 */
import type { IdGenerator, Sampler } from "@opentelemetry/sdk-trace-base";
import type { SpanOutput } from "./exported-span.ts";
import type { AttributeOptions } from "./genai-attributes.ts";

/** The sampler, ids and output of the spans, and what decides their optional attributes. */
export interface OtelTracerOptions extends AttributeOptions {
  /** Asked once per run (and per request), when it starts. */
  readonly sampler: Sampler;
  /** Random W3C trace and span ids. */
  readonly ids: IdGenerator;
  /** Where finished spans go. */
  readonly output: SpanOutput;
}
