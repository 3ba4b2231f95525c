import { z } from "zod";
import { duration, field } from "../field.ts";

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
    service_name: field(z.string().min(1).default("skiff"), {
      kind: "string",
      help: "service.name resource attribute",
    }),
    capture_content: field(z.boolean().default(false), {
      kind: "boolean",
      flag: "trace-content",
      help: "Record prompts, answers and tool arguments/results on spans (off by default)",
    }),
    disabled: field(z.boolean().default(false), {
      kind: "boolean",
      flag: false,
      help: "Turn telemetry off entirely (OTEL_SDK_DISABLED)",
    }),
    export_timeout: duration("2s", { help: "Longest wait to flush spans at exit" }),
  })
  .prefault({});
