import type { PriceFunction, RunLimits } from "../agent/index.ts";
import type { Config } from "../config/index.ts";
import { priceFor } from "../model/pricing.ts";

/** What a config allows a run: its limits and, when `[pricing]` names models, the price of a call. */
export interface RunSettings {
  readonly limits: RunLimits;
  readonly price?: PriceFunction;
}

/**
 * Turns a config into the `limits` and `price` of `runAgent`'s options; `ask`, `chat` and the HTTP
 * service all start runs from it, so a budget key means the same everywhere.
 */
export function runSettings(config: Config): RunSettings {
  const price = priceFor(config.pricing);
  return { limits: runLimits(config), ...(price === undefined ? {} : { price }) };
}

/** The run limits a config sets (the `limits` half of `runSettings`). */
export function runLimits(config: Config): RunLimits {
  return {
    maxSteps: config.max_steps,
    timeoutMs: config.timeout,
    toolTimeoutMs: config.tool_timeout,
    toolOutputLimit: config.tool_output_limit,
    maxParallelTools: config.tools.max_parallel,
    ...(config.max_tokens === undefined ? {} : { maxTokens: config.max_tokens }),
    ...(config.max_cost === undefined ? {} : { maxCostUsd: config.max_cost }),
    ...(config.max_context_tokens === undefined ? {} : { maxContextTokens: config.max_context_tokens }),
  };
}
