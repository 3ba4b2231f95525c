import { z } from "zod";
import { parseSize } from "../../util/duration.ts";
import { duration, field } from "../field.ts";

/** Below this not even one message with its structure fits, so every content attribute would be a bare marker. */
const minAttributeBytes = 256;

/** `max_attribute_bytes`: a size ("2KiB") or a number of bytes; 0 or at least minAttributeBytes. */
const attributeBytes = z.union([z.number(), z.string()]).transform((input, ctx) => {
  const bytes = typeof input === "number" ? input : parseSize(input);
  const shown = typeof input === "number" ? String(input) : `"${input}"`;
  if (bytes === undefined || !Number.isInteger(bytes) || bytes < 0) {
    ctx.addIssue({ code: "custom", message: `expected a size like "2KiB" or a whole number of bytes, got ${shown}` });
    return z.NEVER;
  }
  if (bytes !== 0 && bytes < minAttributeBytes) {
    ctx.addIssue({ code: "custom", message: `expected 0 (no limit) or at least ${minAttributeBytes} bytes, got ${shown}` });
    return z.NEVER;
  }
  return bytes;
});

/** `[otel]`: OpenTelemetry export. OTEL_* standard variables map onto these keys. */
export const otelSection = z
  .strictObject({
    endpoint: field(z.url().optional(), {
      kind: "string",
      flag: "otlp-endpoint",
      placeholder: "URL",
      help: "OTLP/HTTP base URL (protobuf); /v1/traces is appended. Off when unset",
    }),
    traces_endpoint: field(z.url().optional(), {
      kind: "string",
      flag: false,
      placeholder: "URL",
      help: "OTLP traces URL used as-is (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)",
    }),
    headers: field(z.record(z.string(), z.string()).default({}), {
      kind: "string",
      flag: false,
      env: false,
      secret: true,
      help: 'Headers sent to the collector; values may be "env:NAME" or "file:PATH"',
    }),
    // No default here, so a service.name in OTEL_RESOURCE_ATTRIBUTES can apply when this is unset.
    service_name: field(z.string().min(1).optional(), {
      kind: "string",
      placeholder: "NAME",
      help: "service.name resource attribute (default: service.name of OTEL_RESOURCE_ATTRIBUTES, else skiff)",
    }),
    resource_attributes: field(z.record(z.string(), z.string()).default({}), {
      kind: "string",
      flag: false,
      env: false,
      help: "Extra resource attributes, e.g. { \"deployment.environment.name\" = \"prod\" }; OTEL_RESOURCE_ATTRIBUTES adds to and overrides them",
    }),
    sampler: field(
      z
        .enum(["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"])
        .default("parentbased_always_on"),
      {
        kind: "enum",
        flag: false,
        help: "Which runs are exported (OTEL_TRACES_SAMPLER); the parentbased_* ones follow an incoming traceparent",
      },
    ),
    sampler_arg: field(z.number().min(0).max(1).default(1), {
      kind: "number",
      flag: false,
      help: "Ratio of runs kept by the traceidratio samplers, 0 to 1 (OTEL_TRACES_SAMPLER_ARG)",
    }),
    capture_content: field(z.boolean().default(false), {
      kind: "boolean",
      flag: "trace-content",
      help: "Record prompts, answers and tool arguments/results on spans (off by default)",
    }),
    openinference: field(z.boolean().default(false), {
      kind: "boolean",
      flag: "otel-openinference",
      help: "Also send the OpenInference attributes Arize Phoenix reads (input.value, output.value); off by default because Langfuse prefers them to the GenAI messages",
    }),
    max_attribute_bytes: field(attributeBytes.prefault(0), {
      kind: "size",
      placeholder: "SIZE",
      flag: "otel-max-attribute-bytes",
      help: 'Longest content attribute, cut so it stays valid JSON with a "…[truncated]" marker (e.g. "2KiB" for Tempo\'s default); 0: no limit',
    }),
    disabled: field(z.boolean().default(false), {
      kind: "boolean",
      flag: false,
      help: "Turn span export off (OTEL_SDK_DISABLED); --trace still prints its tree",
    }),
    max_queue_size: field(z.number().int().min(1).max(1_000_000).default(16_384), {
      kind: "number",
      flag: false,
      help: "Ended spans that may wait for export; past this, new spans are dropped and counted (OTEL_BSP_MAX_QUEUE_SIZE)",
    }),
    max_export_batch_size: field(z.number().int().min(1).max(1_000_000).default(2_048), {
      kind: "number",
      flag: false,
      help: "Spans per export request, at most max_queue_size (OTEL_BSP_MAX_EXPORT_BATCH_SIZE)",
    }),
    export_timeout: duration("2s", {
      help: "Longest wait for one span export and for the flush at exit (unless OTEL_EXPORTER_OTLP_TIMEOUT is set)",
      zeroRefused: "every export needs a bound, or a hung collector would hold skiff at exit",
    }),
  })
  .prefault({});
