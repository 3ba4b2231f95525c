/**
 * Resolves what the OpenTelemetry set-up needs from the `[otel]` config and the standard OTEL_*
 * variables, as plain data, so the rules (precedence, URL building, header and resource parsing)
 * are testable without starting an SDK. No OpenTelemetry imports here.
 */
import { buildInfo } from "../build-info.ts";
import type { Config } from "../config/index.ts";
import { resolveSecretRef, type SecretSources } from "../config/secrets.ts";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "./semconv.ts";

/** Sampler names of OTEL_TRACES_SAMPLER that skiff supports. */
export type SamplerName = Config["otel"]["sampler"];

/** Everything otel-setup.ts needs, resolved. */
export interface OtelSettings {
  /** Where spans are POSTed; undefined when export is off (no endpoint, or OTEL_SDK_DISABLED). */
  readonly tracesUrl: string | undefined;
  /** Collector headers with secrets resolved. Never logged. */
  readonly headers: Readonly<Record<string, string>>;
  /** Resource attributes, service.name and service.version included. */
  readonly resource: Readonly<Record<string, string>>;
  readonly sampler: SamplerName;
  readonly samplerRatio: number;
  readonly captureContent: boolean;
  /** Add the OpenInference attributes Phoenix reads (`input.value`, `output.value`, …). */
  readonly openInference: boolean;
  /** Longest content attribute in UTF-8 bytes, cut so it stays valid JSON; 0: no limit. */
  readonly maxAttributeBytes: number;
  /** Ended spans that may wait for export (the batch processor's queue). */
  readonly maxQueueSize: number;
  /** Spans per export request; never more than maxQueueSize. */
  readonly maxExportBatchSize: number;
  /** Bound of the flush at exit, in ms. */
  readonly flushTimeoutMs: number;
  /** Time limit of one export with its retries; undefined leaves it to OTEL_EXPORTER_OTLP_*TIMEOUT. */
  readonly exportTimeoutMs: number | undefined;
}

/**
 * Resolves the settings. Precedence follows DESIGN §6 (flag > env > file > default) and the OTLP
 * exporter spec: `traces_endpoint` (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is used as-is, `endpoint`
 * (OTEL_EXPORTER_OTLP_ENDPOINT, --otlp-endpoint) gets `/v1/traces` appended. Header values from the
 * config may be `env:NAME`/`file:PATH`; a missing secret is a ConfigError naming the key.
 */
export function resolveOtelSettings(otel: Config["otel"], sources: SecretSources): OtelSettings {
  const env = sources.env;
  const url = otel.disabled ? undefined : tracesUrl(otel.traces_endpoint, otel.endpoint);
  const headers: Record<string, string> = {};
  // Secrets are read only when spans will be sent: a token for an unused collector is no error.
  if (url !== undefined) {
    for (const [name, ref] of Object.entries(otel.headers)) headers[name] = resolveSecretRef(ref, ["otel", "headers", name], sources);
    // The per-signal variable wins over the generic one, as in the OTel exporters.
    Object.assign(headers, parseKeyValueList(env["OTEL_EXPORTER_OTLP_HEADERS"]), parseKeyValueList(env["OTEL_EXPORTER_OTLP_TRACES_HEADERS"]));
  }

  const fromEnv = parseKeyValueList(env["OTEL_RESOURCE_ATTRIBUTES"]);
  const resource: Record<string, string> = { [ATTR_SERVICE_VERSION]: buildInfo.version, ...otel.resource_attributes, ...fromEnv };
  resource[ATTR_SERVICE_NAME] = otel.service_name ?? fromEnv[ATTR_SERVICE_NAME] ?? otel.resource_attributes[ATTR_SERVICE_NAME] ?? "skiff";

  const envTimeout = env["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"] || env["OTEL_EXPORTER_OTLP_TIMEOUT"];
  return {
    tracesUrl: url,
    headers,
    resource,
    sampler: otel.sampler,
    samplerRatio: otel.sampler_arg,
    captureContent: otel.capture_content,
    openInference: otel.openinference,
    maxAttributeBytes: otel.max_attribute_bytes,
    maxQueueSize: otel.max_queue_size,
    maxExportBatchSize: Math.min(otel.max_export_batch_size, otel.max_queue_size),
    flushTimeoutMs: otel.export_timeout,
    exportTimeoutMs: envTimeout ? undefined : Math.max(otel.export_timeout, 1),
  };
}

/** The traces URL: the specific one as-is, else the base URL with `v1/traces` appended. */
export function tracesUrl(tracesEndpoint: string | undefined, endpoint: string | undefined): string | undefined {
  if (tracesEndpoint) return tracesEndpoint;
  if (!endpoint) return undefined;
  return `${endpoint.endsWith("/") ? endpoint : `${endpoint}/`}v1/traces`;
}

/**
 * Parses the `key1=value1,key2=value2` lists of OTEL_EXPORTER_OTLP_HEADERS and
 * OTEL_RESOURCE_ATTRIBUTES: split on the first `=` (base64 padding survives), trim, and
 * percent-decode; entries that do not decode are skipped rather than failing the run.
 */
export function parseKeyValueList(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const entry of text.split(",")) {
    const eq = entry.indexOf("=");
    if (eq <= 0) continue;
    try {
      const key = decodeURIComponent(entry.slice(0, eq).trim());
      const value = decodeURIComponent(entry.slice(eq + 1).trim());
      if (key !== "") out[key] = value;
    } catch {
      // A stray "%" in one entry: skip that entry only.
    }
  }
  return out;
}
