import { describe, expect, it } from "bun:test";
import { buildInfo } from "../../src/build-info.ts";
import { loadConfig } from "../../src/config/index.ts";
import { ConfigError } from "../../src/errors.ts";
import { parseKeyValueList, resolveOtelSettings, tracesUrl } from "../../src/telemetry/otel-settings.ts";

type Env = Record<string, string | undefined>;

/** Loads the real config schema from env and an optional TOML text, as main.ts does. */
function resolve(env: Env, toml = "", files: Record<string, string> = {}) {
  const all: Record<string, string> = { ...files, ...(toml ? { "/w/skiff.toml": toml } : {}) };
  const result = loadConfig({
    flags: new Map(),
    env,
    cwd: "/w",
    readFile: (path) => all[path],
    parseToml: (text) => Bun.TOML.parse(text),
  });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return resolveOtelSettings(result.value.config.otel, { env, readFile: (path) => all[path] });
}

describe("tracesUrl", () => {
  it("appends v1/traces to the base endpoint and uses the traces endpoint as-is", () => {
    expect(tracesUrl(undefined, "http://c:4318")).toBe("http://c:4318/v1/traces");
    expect(tracesUrl(undefined, "http://c:4318/api/public/otel/")).toBe("http://c:4318/api/public/otel/v1/traces");
    expect(tracesUrl("http://c:4318/x", "http://c:4318")).toBe("http://c:4318/x");
    expect(tracesUrl(undefined, undefined)).toBeUndefined();
  });
});

describe("parseKeyValueList", () => {
  it("splits on the first '=', trims and percent-decodes, skipping bad entries", () => {
    expect(parseKeyValueList("authorization=Basic YTpi==, x-a = 1 ,bad,%zz=1,k=v%2Cw")).toEqual({
      authorization: "Basic YTpi==",
      "x-a": "1",
      k: "v,w",
    });
    expect(parseKeyValueList(undefined)).toEqual({});
  });
});

describe("resolveOtelSettings", () => {
  it("is off with no endpoint, and off when OTEL_SDK_DISABLED is true", () => {
    expect(resolve({}).tracesUrl).toBeUndefined();
    expect(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }).tracesUrl).toBe("http://c:4318/v1/traces");
    expect(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "true" }).tracesUrl).toBeUndefined();
  });

  it("merges headers: config (secrets resolved) < OTEL_EXPORTER_OTLP_HEADERS < OTEL_EXPORTER_OTLP_TRACES_HEADERS", () => {
    const settings = resolve(
      { TOKEN: "t0k", OTEL_EXPORTER_OTLP_HEADERS: "x-b=env,x-c=env", OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-c=traces" },
      '[otel]\nendpoint = "http://c:4318"\nheaders = { authorization = "env:TOKEN", x-file = "file:/k", x-b = "file-literal" }',
      { "/k": "from-file\n" },
    );
    expect(settings.headers).toEqual({ authorization: "t0k", "x-file": "from-file", "x-b": "env", "x-c": "traces" });
  });

  it("fails with a ConfigError naming the header when its secret is missing, but only when exporting", () => {
    const toml = '[otel]\nheaders = { authorization = "env:MISSING" }';
    expect(resolve({}, toml).headers).toEqual({});
    expect(() => resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }, toml)).toThrow(ConfigError);
    expect(() => resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }, toml)).toThrow(/otel\.headers\.authorization/);
  });

  it("builds the resource: service.name from config, else OTEL_RESOURCE_ATTRIBUTES, else skiff", () => {
    expect(resolve({}).resource).toEqual({ "service.name": "skiff", "service.version": buildInfo.version });
    expect(resolve({ OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attrs,a=1" }).resource).toEqual({
      "service.name": "from-attrs",
      "service.version": buildInfo.version,
      a: "1",
    });
    const both = resolve({ OTEL_SERVICE_NAME: "svc", OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attrs,a=2" }, '[otel]\nresource_attributes = { a = "file", b = "file" }');
    expect(both.resource).toEqual({ "service.name": "svc", "service.version": buildInfo.version, a: "2", b: "file" });
  });

  it("reads the sampler and capture switches from the standard variables", () => {
    const settings = resolve({
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: "true",
    });
    expect([settings.sampler, settings.samplerRatio, settings.captureContent]).toEqual(["parentbased_traceidratio", 0.25, true]);
    expect(resolve({}).sampler).toBe("parentbased_always_on");
  });

  it("bounds each export by export_timeout unless OTEL_EXPORTER_OTLP_TIMEOUT is set", () => {
    expect(resolve({}).exportTimeoutMs).toBe(2_000);
    expect(resolve({}).flushTimeoutMs).toBe(2_000);
    expect(resolve({ OTEL_EXPORTER_OTLP_TIMEOUT: "5000" }).exportTimeoutMs).toBeUndefined();
  });
});
