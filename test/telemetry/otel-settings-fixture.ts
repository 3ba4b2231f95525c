import type { OtelSettings } from "../../src/telemetry/otel-settings.ts";

/** OtelSettings for tests: no export unless `tracesUrl` is given, everything recorded, short limits. */
export function testOtelSettings(overrides: Partial<OtelSettings> = {}): OtelSettings {
  return {
    tracesUrl: undefined,
    headers: {},
    resource: { "service.name": "skiff-test" },
    sampler: "parentbased_always_on",
    samplerRatio: 1,
    captureContent: false,
    openInference: false,
    maxAttributeBytes: 0,
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
    flushTimeoutMs: 1_000,
    exportTimeoutMs: 1_000,
    ...overrides,
  };
}
