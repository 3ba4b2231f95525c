import { describe, expect, it } from "bun:test";
import { loadConfig, type ConfigSources, type LoadResult } from "../../src/config/index.ts";
import { formatIssuePath } from "../../src/errors.ts";

function sources(options: { flags?: Record<string, string>; env?: Record<string, string>; files?: Record<string, string>; configPath?: string }): ConfigSources {
  const files = options.files ?? {};
  return {
    flags: new Map(Object.entries(options.flags ?? {})),
    env: options.env ?? {},
    cwd: "/work",
    ...(options.configPath ? { configPath: options.configPath } : {}),
    readFile: (path) => files[path],
    parseToml: (text) => Bun.TOML.parse(text),
  };
}

function ok(result: LoadResult) {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.issues)}`);
  return result.value;
}

function issues(result: LoadResult) {
  if (result.ok) throw new Error("expected issues, got a valid config");
  return result.issues;
}

describe("loadConfig", () => {
  it("uses defaults when nothing is given", () => {
    const { config, sources: from, file } = ok(loadConfig(sources({})));
    expect(config.model).toBe("gpt-4.1-mini");
    expect(config.max_steps).toBe(10);
    expect(config.timeout).toBe(120_000);
    expect(config.llm_timeout).toBe(60_000);
    expect(config.tool_output_limit).toBe(64 * 1024);
    expect(config.server.listen).toBe("127.0.0.1:8080");
    expect(config.tools.enable).toEqual([]);
    expect(file).toBeUndefined();
    expect(from.size).toBe(0);
  });

  it("applies precedence flag > env > file > default, and records each source", () => {
    const file = 'model = "from-file"\nmax_steps = 3\ntimeout = "10s"\n[server]\nlisten = "127.0.0.1:9000"\n';
    const loaded = ok(
      loadConfig(
        sources({
          files: { "/work/skiff.toml": file },
          env: { SKIFF_MODEL: "from-env", SKIFF_MAX_STEPS: "4" },
          flags: { model: "from-flag" },
        }),
      ),
    );
    expect(loaded.config.model).toBe("from-flag");
    expect(loaded.config.max_steps).toBe(4);
    expect(loaded.config.timeout).toBe(10_000);
    expect(loaded.config.server.listen).toBe("127.0.0.1:9000");
    expect(loaded.config.retries).toBe(2);
    expect(loaded.sources.get("model")).toBe("flag --model");
    expect(loaded.sources.get("max_steps")).toBe("env SKIFF_MAX_STEPS");
    expect(loaded.sources.get("timeout")).toBe("/work/skiff.toml:3");
    expect(loaded.sources.get("server.listen")).toBe("/work/skiff.toml:5");
    expect(loaded.file).toBe("/work/skiff.toml");
  });

  it("finds the file from --config, then SKIFF_CONFIG, then ./skiff.toml", () => {
    const files = { "/a.toml": 'model = "a"', "/b.toml": 'model = "b"', "/work/skiff.toml": 'model = "local"' };
    expect(ok(loadConfig(sources({ files, configPath: "/a.toml", env: { SKIFF_CONFIG: "/b.toml" } }))).config.model).toBe("a");
    expect(ok(loadConfig(sources({ files, env: { SKIFF_CONFIG: "/b.toml" } }))).config.model).toBe("b");
    expect(ok(loadConfig(sources({ files }))).config.model).toBe("local");
  });

  it("honors the standard OPENAI_* and OTEL_* variables beneath SKIFF_* ones", () => {
    const env = {
      OPENAI_BASE_URL: "http://127.0.0.1:11434/v1",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
      OTEL_SERVICE_NAME: "agent-a",
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: "SPAN_ONLY",
      OTEL_BSP_MAX_QUEUE_SIZE: "50000",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "1000",
    };
    const { config } = ok(loadConfig(sources({ env })));
    expect(config.otel.max_queue_size).toBe(50_000);
    expect(config.otel.max_export_batch_size).toBe(1_000);
    expect(ok(loadConfig(sources({}))).config.otel.max_queue_size).toBe(16_384);
    expect(config.base_url).toBe("http://127.0.0.1:11434/v1");
    expect(config.otel.endpoint).toBe("http://127.0.0.1:4318");
    expect(config.otel.service_name).toBe("agent-a");
    expect(config.otel.capture_content).toBe(true);
    const overridden = ok(loadConfig(sources({ env: { ...env, SKIFF_BASE_URL: "http://127.0.0.1:1/v1" } }))).config;
    expect(overridden.base_url).toBe("http://127.0.0.1:1/v1");
  });

  it("parses lists, booleans, durations and sizes from text", () => {
    const { config } = ok(
      loadConfig(
        sources({
          flags: { tools: "time, calc", "trace-content": "true", "llm-timeout": "1m30s", "tool-output-limit": "1MiB" },
          env: { SKIFF_TOOLS_FS_WRITE: "yes" },
        }),
      ),
    );
    expect(config.tools.enable).toEqual(["time", "calc"]);
    expect(config.otel.capture_content).toBe(true);
    expect(config.llm_timeout).toBe(90_000);
    expect(config.tool_output_limit).toBe(1024 * 1024);
    expect(config.tools.fs_write).toBe(true);
  });

  it("names the flag for a bad flag value", () => {
    expect(issues(loadConfig(sources({ flags: { "max-steps": "many" } })))).toEqual([
      { code: "invalid_type", path: ["max_steps"], source: "flag --max-steps", message: 'expected a whole number, got "many"' },
    ]);
  });

  it("names the env var for a bad env value", () => {
    expect(issues(loadConfig(sources({ env: { SKIFF_TIMEOUT: "soon" } })))).toEqual([
      { code: "invalid_value", path: ["timeout"], source: "env SKIFF_TIMEOUT", message: 'expected a duration like "250ms", "30s", "2m", "1h" or "1d", got "soon"' },
    ]);
    expect(issues(loadConfig(sources({ env: { SKIFF_TOOLS_FS_WRITE: "maybe" } })))[0]!.message).toBe(
      'expected true or false, got "maybe"',
    );
  });

  it("names the file and line for a bad file value", () => {
    const file = 'model = "x"\n\n[server]\nmax_concurrent = 0\n';
    const [issue] = issues(loadConfig(sources({ files: { "/work/skiff.toml": file } })));
    expect(issue!.path).toEqual(["server", "max_concurrent"]);
    expect(issue!.code).toBe("invalid_value");
    expect(issue!.source).toBe("/work/skiff.toml:4");
    expect(issue!.message).toContain(">=1");
  });

  it("rejects unknown keys with the known ones and a likely fix", () => {
    const file = "max_step = 3\n[server]\nlisen = \"127.0.0.1:1\"\n";
    const found = issues(loadConfig(sources({ files: { "/work/skiff.toml": file } })));
    const byPath = Object.fromEntries(found.map((i) => [formatIssuePath(i.path), i]));
    expect(byPath["max_step"]!.source).toBe("/work/skiff.toml:1");
    expect(byPath["max_step"]!.message).toStartWith('unknown key; did you mean "max_steps"? Known keys here: model, base_url');
    expect(byPath["server.lisen"]!.source).toBe("/work/skiff.toml:3");
    expect(byPath["server.lisen"]!.message).toContain('did you mean "listen"?');
    expect(found.map((i) => [i.code, i.path])).toEqual([
      ["unknown_key", ["server", "lisen"]],
      ["unknown_key", ["max_step"]],
    ]);
  });

  it("reports a file that is not TOML, naming the line", () => {
    const cases: [string, string, string][] = [
      ["model = = 3", "/work/skiff.toml:1", "line 1 is not valid TOML: Expected a value but found '='"],
      ['model = "demo"\nmax_steps = 3\n[tools\nenable = ["calc"]\n', "/work/skiff.toml:3", "line 3 is not valid TOML: Expected ']' to close a table header but found the end of the line"],
      ['x = [\n  1,\n  2,\n]\nmodel = "demo\n', "/work/skiff.toml:5", "line 5 is not valid TOML: Unterminated string; newlines must be escaped in basic strings"],
      ['model = "demo"\nmodel = "other"\n', "/work/skiff.toml:2", "line 2 is not valid TOML: Cannot redefine key 'model'"],
      ['[tools]\nenable = ["calc",\n', "/work/skiff.toml:2", "line 2 is not valid TOML: Unterminated array; expected ']'"],
    ];
    for (const [file, source, message] of cases) {
      expect(issues(loadConfig(sources({ files: { "/work/skiff.toml": file } })))).toEqual([{ code: "invalid_value", path: [], source, message }]);
    }
  });

  it("reports a --config file that does not exist", () => {
    expect(issues(loadConfig(sources({ configPath: "/missing.toml" })))).toEqual([
      { code: "not_found", path: [], source: "flag --config", message: 'the config file "/missing.toml" does not exist or cannot be read' },
    ]);
  });

  it("validates declared tool entries with their index", () => {
    const file = '[[tools.http]]\nname = "ok_tool"\ndescription = "d"\nurl = "http://127.0.0.1:1/x"\n\n[[tools.http]]\nname = "bad name!"\ndescription = "d"\nurl = "not a url"\n';
    const found = issues(loadConfig(sources({ files: { "/work/skiff.toml": file } })));
    expect(found.map((i) => formatIssuePath(i.path)).sort()).toEqual(["tools.http[1].name", "tools.http[1].url"]);
    expect(found.find((i) => formatIssuePath(i.path) === "tools.http[1].name")).toMatchObject({ code: "invalid_value", path: ["tools", "http", 1, "name"], source: "/work/skiff.toml:7" });
  });

  it("reports every bad value at once", () => {
    const found = issues(loadConfig(sources({ flags: { "max-steps": "x", retries: "y" } })));
    expect(found.map((i) => i.path)).toEqual([["max_steps"], ["retries"]]);
  });
});

describe("loadConfig durations", () => {
  it("refuses a duration longer than a timer can wait, naming the largest accepted (24d)", () => {
    expect(issues(loadConfig(sources({ env: { SKIFF_TIMEOUT: "25d" } })))).toEqual([
      { code: "invalid_value", path: ["timeout"], source: "env SKIFF_TIMEOUT", message: "25d is longer than the largest accepted duration, 24d" },
    ]);
    const file = 'llm_timeout = "30d"\ntool_timeout = "99999999999999999999d"\n[server]\nshutdown_timeout = "30d"\n';
    const found = issues(loadConfig(sources({ files: { "/work/skiff.toml": file } })));
    expect(found.map((i) => [formatIssuePath(i.path), i.source])).toEqual([
      ["llm_timeout", "/work/skiff.toml:1"],
      ["tool_timeout", "/work/skiff.toml:2"],
      ["server.shutdown_timeout", "/work/skiff.toml:4"],
    ]);
    expect(found.every((i) => i.message.endsWith("is longer than the largest accepted duration, 24d"))).toBe(true);
    expect(ok(loadConfig(sources({ env: { SKIFF_TIMEOUT: "24d" } }))).config.timeout).toBe(24 * 86_400_000);
  });

  it("reads 0 as no limit where a limit can be switched off", () => {
    const file = 'timeout = "0"\nllm_timeout = "0"\ntool_timeout = "0s"\n[server]\ngc_interval = "0"\nsession_ttl = "0"\n';
    const { config } = ok(loadConfig(sources({ files: { "/work/skiff.toml": file } })));
    expect([config.timeout, config.llm_timeout, config.tool_timeout, config.server.gc_interval, config.server.session_ttl]).toEqual([0, 0, 0, 0, 0]);
  });

  it("refuses 0 where it cannot mean no limit, saying why", () => {
    const file = 'max_retry_wait = "0"\n[breaker]\ncooldown = "0"\n[server]\nmax_timeout = "0"\nshutdown_timeout = "0"\n[otel]\nexport_timeout = "0"\n[[mcp]]\nname = "m"\ncommand = ["x"]\nstart_timeout = "0"\n';
    const found = issues(loadConfig(sources({ files: { "/work/skiff.toml": file } })));
    expect(found.map((i) => formatIssuePath(i.path)).sort()).toEqual(["breaker.cooldown", "max_retry_wait", "mcp[0].start_timeout", "otel.export_timeout", "server.max_timeout", "server.shutdown_timeout"]);
    for (const issue of found) expect(issue.message).toMatch(/^0 is not accepted here \(.+\); give a duration from 1ms to 24d$/);
    expect(found.find((i) => formatIssuePath(i.path) === "mcp[0].start_timeout")!.source).toBe("/work/skiff.toml:12");
  });

  it("refuses a duration that rounds to 0ms instead of reading it as no limit", () => {
    expect(issues(loadConfig(sources({ flags: { timeout: "0.4ms" } })))[0]!.message).toBe('0.4ms is shorter than 1ms; give at least 1ms (or "0" for no limit)');
  });

  it("lets session_ttl be longer than a timer can wait: it is no timer", () => {
    expect(ok(loadConfig(sources({ flags: { "session-ttl": "365d" } }))).config.server.session_ttl).toBe(365 * 86_400_000);
  });
});

describe("loadConfig unknown sections", () => {
  it("names the file and line of a misspelt section and suggests the known one", () => {
    const file = 'model = "demo"\n\n[sever]\nlisten = "127.0.0.1:1"\n';
    const [issue] = issues(loadConfig(sources({ files: { "/work/skiff.toml": file } })));
    expect(issue).toMatchObject({ code: "unknown_key", path: ["sever"], source: "/work/skiff.toml:3" });
    expect(issue!.message).toStartWith("unknown section [sever]; did you mean [server]? Known keys here:");
  });

  it("finds nested, array and dotted forms of an unknown section", () => {
    const file = 'model = "demo"\nfallbak.model = "x"\n[tools]\nenable = []\n[tools.htp.x]\na = 1\n[[mcpp]]\nname = "m"\n';
    const found = issues(loadConfig(sources({ files: { "/work/skiff.toml": file } })));
    const byPath = Object.fromEntries(found.map((i) => [formatIssuePath(i.path), i]));
    expect(byPath["fallbak"]).toMatchObject({ source: "/work/skiff.toml:2" });
    expect(byPath["fallbak"]!.message).toStartWith("unknown section [fallbak]; did you mean [fallback]?");
    expect(byPath["tools.htp"]).toMatchObject({ source: "/work/skiff.toml:5" });
    expect(byPath["tools.htp"]!.message).toStartWith("unknown section [tools.htp]; did you mean [tools.http]?");
    expect(byPath["mcpp"]).toMatchObject({ source: "/work/skiff.toml:7" });
    expect(byPath["mcpp"]!.message).toStartWith("unknown section [mcpp]; did you mean [mcp]?");
  });
});

describe("loadConfig flag precedence over related env vars", () => {
  it("--otlp-endpoint beats OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", () => {
    const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:1/v1/traces" };
    const withFlag = ok(loadConfig(sources({ env, flags: { "otlp-endpoint": "http://127.0.0.1:2" } }))).config;
    expect(withFlag.otel.endpoint).toBe("http://127.0.0.1:2");
    expect(withFlag.otel.traces_endpoint).toBeUndefined();
    const withoutFlag = ok(loadConfig(sources({ env }))).config;
    expect(withoutFlag.otel.traces_endpoint).toBe("http://127.0.0.1:1/v1/traces");
  });
});
