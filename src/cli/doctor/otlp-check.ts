import type { Config } from "../../config/index.ts";
import { SkiffError } from "../../errors.ts";
import { resolveOtelSettings } from "../../telemetry/otel-settings.ts";
import { redactUrl } from "../../util/redact-url.ts";
import { type CheckContext, type CheckResult, type DoctorCheck, result } from "./check.ts";
import { probe } from "./probe.ts";

/**
 * Checks the OTLP/HTTP collector by exporting an empty batch (a valid, empty protobuf
 * ExportTraceServiceRequest), with the configured headers. Skipped when no endpoint is set.
 */
export function otlpCheck(otel: Config["otel"]): DoctorCheck {
  return { name: "otlp", run: (context) => checkOtlp(otel, context) };
}

async function checkOtlp(otel: Config["otel"], context: CheckContext): Promise<CheckResult> {
  let settings: ReturnType<typeof resolveOtelSettings>;
  try {
    settings = resolveOtelSettings(otel, context.secrets);
  } catch (error) {
    const message = error instanceof SkiffError ? error.message : String(error);
    return result.fail(`cannot build the collector's headers: ${message}`, "set the environment variable or file that otel.headers refers to");
  }
  if (settings.tracesUrl === undefined) {
    return result.skip(otel.disabled ? "telemetry is off (otel.disabled / OTEL_SDK_DISABLED)" : "no collector configured (otel.endpoint, OTEL_EXPORTER_OTLP_ENDPOINT)");
  }
  // The URL may carry credentials in its userinfo or query; messages show it without them.
  const shown = redactUrl(settings.tracesUrl);
  const sent = await probe(context, settings.tracesUrl, {
    method: "POST",
    headers: { ...settings.headers, "content-type": "application/x-protobuf" },
    body: new Uint8Array(0),
  });
  const where = "otel.endpoint (--otlp-endpoint, OTEL_EXPORTER_OTLP_ENDPOINT)";
  if (!sent.ok) return result.fail(`collector at ${shown}: ${sent.reason}`, `start the collector, or correct ${where}; OTLP/HTTP usually listens on port 4318`);
  if (sent.status >= 200 && sent.status < 300) return result.ok(`collector at ${shown} accepted an empty export → ${sent.status} (${sent.ms} ms)`);
  if (sent.status === 401 || sent.status === 403) {
    return result.fail(`collector at ${shown} → ${sent.status}: it refused the credentials`, "set otel.headers (or OTEL_EXPORTER_OTLP_HEADERS) to what the collector expects");
  }
  if (sent.status === 404) {
    return result.fail(
      `collector at ${shown} → 404: no OTLP/HTTP traces receiver there`,
      `set ${where} to the collector's base URL (skiff appends /v1/traces), e.g. http://collector:4318`,
    );
  }
  return result.fail(`collector at ${shown} → ${sent.status}`, "check the collector's logs; skiff sends OTLP/HTTP protobuf");
}
