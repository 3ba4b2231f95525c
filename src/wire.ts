/**
 * Builds the concrete adapters (model, tools, tracer) from a validated Config. Only composition
 * code imports it (the commands' runs in src/commands/, and wire-serve.ts): it is the one place
 * where ports meet their implementations.
 */
import type { Config } from "./config/index.ts";
import { ConfigError, configIssue, type Issue } from "./errors.ts";
import { readSecretFile, resolveApiKey, resolveSecretRef, type SecretSources } from "./config/index.ts";
import { type ChainedModel, createFallbackModel } from "./model/fallback.ts";
import { createDemoModel } from "./model/demo.ts";
import type { Model } from "./model/model.ts";
import { createOpenAIModel, type RetryNotice } from "./model/openai.ts";
import { combineTracers, type Tracer } from "./telemetry/tracer.ts";
import { createGenAiMetrics, type GenAiMetrics } from "./telemetry/metrics.ts";
import { createMetricsTracer } from "./telemetry/metrics-tracer.ts";
import { startOtel } from "./telemetry/otel-setup.ts";
import { resolveOtelSettings } from "./telemetry/otel-settings.ts";
import { buildInfo } from "./build-info.ts";
import { builtinToolFactories } from "./tools/builtin/index.ts";
import { buildDeclaredTools, type ToolSet } from "./tools/declared-tools.ts";
import { createSemaphore } from "./util/semaphore.ts";
import { defaultOutboundBudget } from "./tools/outbound.ts";
import { selectTools } from "./tools/select-tools.ts";
import type { Tool } from "./tools/tool.ts";
import { mcpToolPrefix } from "./tools/mcp/tool-names.ts";
import { isLocalHost } from "./util/local-host.ts";
import { redactUrl } from "./util/redact-url.ts";

/** What a command needs to run the agent. */
export interface Runtime {
  readonly model: Model;
  readonly tools: readonly Tool[];
  readonly tracer: Tracer;
  /** Flushes telemetry and closes tool connections; bounded in time. */
  readonly shutdown: () => Promise<void>;
  /** GenAI histograms for `GET /metrics`, when RuntimeOptions.metrics asked for them. */
  readonly metrics?: GenAiMetrics;
  /** Spans dropped because the export queue was full, when spans are exported. */
  readonly droppedSpans?: () => number;
}

export interface RuntimeOptions {
  readonly config: Config;
  readonly secrets: SecretSources;
  /** Print each run's span tree here (`--trace`). */
  readonly traceTo?: (text: string) => void;
  /** Record GenAI metrics (durations, tokens) in process, for `serve`'s /metrics. */
  readonly metrics?: boolean;
  /** Where one-line telemetry warnings go (a collector that fails); default stderr. */
  readonly warn?: (line: string) => void;
  /** Where runtime events (retries, circuit changes) are logged. */
  readonly log?: (event: RuntimeLogEvent) => void;
  /**
   * Whether a public endpoint without an API key stops start-up (`ask`, `chat`: the default) or is
   * left to the caller (`serve` logs it and starts: its readiness does not depend on the key).
   */
  readonly requireApiKey?: boolean;
}

/** A structured log line from the runtime (retries, circuit changes); never holds a secret or content. */
export interface RuntimeLogEvent {
  readonly level: "info" | "warn";
  readonly msg: string;
  readonly [field: string]: string | number | boolean;
}

/**
 * Builds the model for the config: the offline demo, or an OpenAI-compatible endpoint followed by
 * its `[[fallback]]` providers, each behind a circuit breaker.
 */
export function buildModel(config: Config, secrets: SecretSources, log: (event: RuntimeLogEvent) => void = () => {}): Model {
  if (config.model === "demo") return createDemoModel();
  const common = {
    llmTimeoutMs: config.llm_timeout,
    retries: config.retries,
    maxRetryWaitMs: config.max_retry_wait,
    onRetry: (retry: RetryNotice) =>
      log({ level: "warn", msg: "model request retry", host: retry.host, model: retry.model, attempt: retry.attempt, wait_ms: retry.waitMs, reason: retry.reason }),
  };
  const apiKey = resolveApiKey(config.api_key_file, secrets);
  const primary = createOpenAIModel({
    model: config.model,
    baseURL: config.base_url,
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(config.provider === undefined ? {} : { providerName: config.provider }),
    ...common,
  });
  if (config.fallback.length === 0) return primary;
  const chain: ChainedModel[] = [{ label: `${config.model}@${new URL(config.base_url).host}`, model: primary }];
  config.fallback.forEach((entry, index) => {
    const key = entry.api_key_file
      ? readSecretFile(entry.api_key_file, `fallback[${index}].api_key_file`, secrets)
      : entry.api_key_env
        ? resolveSecretRef(`env:${entry.api_key_env}`, `fallback[${index}].api_key_env`, secrets)
        : undefined;
    chain.push({
      label: `${entry.model}@${new URL(entry.base_url).host}`,
      model: createOpenAIModel({
        model: entry.model,
        baseURL: entry.base_url,
        ...(key === undefined ? {} : { apiKey: key }),
        ...(entry.provider === undefined ? {} : { providerName: entry.provider }),
        ...common,
      }),
    });
  });
  return createFallbackModel(chain, {
    failures: config.breaker.failures,
    cooldownMs: config.breaker.cooldown,
    onBreakerChange: (label, state, failures) =>
      log({ level: state === "closed" ? "info" : "warn", msg: "model circuit changed", provider: label, state, consecutive_failures: failures }),
  });
}

/**
 * The tools the config turns on: the enabled built-ins, the declared HTTP and command tools, and
 * the tools of the MCP servers (started here; `close` stops them). The demo model gets time and
 * calc unless told otherwise. With `mcp: "check"` (`skiff config check`) no MCP server is
 * started: only their programs are looked up, and their tools are missing from the set.
 */
export async function buildTools(config: Config, secrets: SecretSources, mcp: "start" | "check" = "start"): Promise<ToolSet> {
  const enable = config.tools.enable.length === 0 && config.model === "demo" ? ["time", "calc"] : config.tools.enable;
  // One budget of sockets for every tool that calls out over HTTP (see defaultOutboundBudget).
  const outbound = createSemaphore(config.tools.max_outbound ?? defaultOutboundBudget());
  const builtins = builtinToolFactories({
    outbound,
    fsRoot: config.tools.fs_root,
    fsWrite: config.tools.fs_write,
    fsMaxBytes: config.tools.fs_max_bytes,
    allowHosts: config.tools.allow_hosts,
    fetchMaxResponse: config.tools.fetch_max_response,
    timeoutMs: config.tool_timeout,
    userAgent: `skiff/${buildInfo.version}`,
  });
  // Built-ins first: a mistake there is reported before any MCP server is started.
  selectTools({ builtins, enable, disable: config.tools.disable.filter((name) => name in builtins) });
  const declared = await buildDeclaredTools(config, {
    secrets,
    env: secrets.env,
    cwd: process.cwd(),
    client: { name: "skiff", version: buildInfo.version },
    outbound,
    mcp,
  });
  // Unstarted MCP servers have tools nobody has listed yet: tools.disable may name them.
  const unlisted = mcp === "check" ? config.mcp.map((entry) => mcpToolPrefix(entry.name)) : [];
  try {
    return { tools: selectTools({ builtins, enable, disable: config.tools.disable, declared: declared.tools, unlisted }), close: declared.close };
  } catch (error) {
    await declared.close();
    throw error;
  }
}

/**
 * A public model endpoint with no API key, as issues naming where a key is looked for: without
 * one, the first request would fail as a 401 or, offline, as a DNS error that hides the cause.
 * Endpoints on this machine or a private network (Ollama, llama.cpp) need none.
 */
export function missingApiKeys(config: Config, secrets: SecretSources): Issue[] {
  if (config.model === "demo") return [];
  const issues: Issue[] = [];
  if (resolveApiKey(config.api_key_file, secrets) === undefined && !isLocalUrl(config.base_url)) {
    issues.push(
      configIssue(
        "api_key_file",
        `no API key is set for ${redactUrl(config.base_url)}: skiff reads it from api_key_file (--api-key-file, SKIFF_API_KEY_FILE or skiff.toml), ` +
          "else from the OPENAI_API_KEY environment variable, and neither is set; set one, or point base_url at a local server " +
          "(e.g. http://127.0.0.1:11434/v1), which needs no key",
        { code: "missing" },
      ),
    );
  }
  config.fallback.forEach((entry, index) => {
    if (entry.api_key_file || entry.api_key_env || isLocalUrl(entry.base_url)) return;
    issues.push(
      configIssue(
        `fallback[${index}]`,
        `no API key is set for ${redactUrl(entry.base_url)}: set api_key_file or api_key_env of [[fallback]] ${index + 1}, or point its base_url at a local server`,
        { code: "missing" },
      ),
    );
  });
  return issues;
}

function isLocalUrl(url: string): boolean {
  return isLocalHost(new URL(url).hostname);
}

/**
 * Wires model, tools and tracing for one process; MCP servers are started before it resolves.
 * A public endpoint without an API key stops it first (see RuntimeOptions.requireApiKey), before
 * any server is started or any connection made.
 */
export async function buildRuntime(options: RuntimeOptions): Promise<Runtime> {
  if (options.requireApiKey !== false) {
    const missing = missingApiKeys(options.config, options.secrets);
    if (missing.length > 0) throw new ConfigError(missing);
  }
  const toolSet = await buildTools(options.config, options.secrets);
  try {
    return assembleRuntime(options, toolSet);
  } catch (error) {
    await toolSet.close();
    throw error;
  }
}

function assembleRuntime(options: RuntimeOptions, toolSet: ToolSet): Runtime {
  const tracers: Tracer[] = [];
  const otelSettings = resolveOtelSettings(options.config.otel, options.secrets);
  // The SDK starts only when something reads its spans: a collector, or the --trace tree.
  const otel =
    otelSettings.tracesUrl !== undefined || options.traceTo
      ? startOtel({
          settings: otelSettings,
          ...(options.traceTo ? { treeWriter: options.traceTo } : {}),
          ...(options.config.system ? { systemPrompt: options.config.system } : {}),
          warn: options.warn ?? ((line) => void process.stderr.write(line)),
        })
      : undefined;
  if (otel) tracers.push(otel.tracer);
  const metrics = options.metrics ? createGenAiMetrics() : undefined;
  if (metrics) tracers.push(createMetricsTracer({ metrics }));
  return {
    model: buildModel(options.config, options.secrets, options.log),
    tools: toolSet.tools,
    tracer: combineTracers(tracers),
    ...(metrics ? { metrics } : {}),
    ...(otel ? { droppedSpans: otel.droppedSpans } : {}),
    // Bounded by otel.export_timeout; never rejects, so a dead collector cannot change the exit code.
    shutdown: async () => {
      await Promise.all([otel?.shutdown(), toolSet.close()]);
    },
  };
}
