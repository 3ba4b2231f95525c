/**
 * Builds the concrete adapters (model, tools, tracer) from a validated Config. Only main.ts
 * imports this file: it is the one place where ports meet their implementations.
 */
import type { Config } from "./config/index.ts";
import { resolveApiKey, type SecretSources } from "./config/index.ts";
import { createDemoModel } from "./model/demo.ts";
import type { Model } from "./model/model.ts";
import { createOpenAIModel } from "./model/openai.ts";
import { combineTracers, type Tracer } from "./telemetry/tracer.ts";
import { createTreeTracer } from "./telemetry/tree.ts";
import { builtinTools } from "./tools/builtin/index.ts";
import { selectTools } from "./tools/select-tools.ts";
import type { Tool } from "./tools/tool.ts";

/** What a command needs to run the agent. */
export interface Runtime {
  readonly model: Model;
  readonly tools: readonly Tool[];
  readonly tracer: Tracer;
  /** Flushes telemetry and closes tool connections; bounded in time. */
  readonly shutdown: () => Promise<void>;
}

export interface RuntimeOptions {
  readonly config: Config;
  readonly secrets: SecretSources;
  /** Print each run's span tree here (`--trace`). */
  readonly traceTo?: (text: string) => void;
}

/** Builds the model for the config: the offline demo or an OpenAI-compatible endpoint. */
export function buildModel(config: Config, secrets: SecretSources): Model {
  if (config.model === "demo") return createDemoModel();
  const apiKey = resolveApiKey(config.api_key_file, secrets);
  return createOpenAIModel({
    model: config.model,
    baseURL: config.base_url,
    ...(apiKey === undefined ? {} : { apiKey }),
    llmTimeoutMs: config.llm_timeout,
    retries: config.retries,
    maxRetryWaitMs: config.max_retry_wait,
  });
}

/** The tools the config turns on. The demo model gets time and calc unless told otherwise. */
export function buildTools(config: Config): Tool[] {
  const enable = config.tools.enable.length === 0 && config.model === "demo" ? ["time", "calc"] : config.tools.enable;
  return selectTools({ builtins: builtinTools, enable, disable: config.tools.disable });
}

/** Wires model, tools and tracing for one process. */
export function buildRuntime(options: RuntimeOptions): Runtime {
  const tracers: Tracer[] = [];
  if (options.traceTo) tracers.push(createTreeTracer({ write: options.traceTo }));
  return {
    model: buildModel(options.config, options.secrets),
    tools: buildTools(options.config),
    tracer: combineTracers(tracers),
    shutdown: async () => {},
  };
}
