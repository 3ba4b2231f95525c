import type { RunLimits } from "../agent/index.ts";
import type { Config } from "../config/index.ts";

/** The run limits a config sets, shared by `ask`, `chat` and the HTTP service. */
export function runLimits(config: Config, overrides: { maxSteps?: number; timeoutMs?: number } = {}): RunLimits {
  return {
    maxSteps: overrides.maxSteps ?? config.max_steps,
    timeoutMs: overrides.timeoutMs ?? config.timeout,
    toolTimeoutMs: config.tool_timeout,
    toolOutputLimit: config.tool_output_limit,
    maxParallelTools: config.tools.max_parallel,
    ...(config.max_tokens === undefined ? {} : { maxTokens: config.max_tokens }),
    ...(config.max_cost === undefined ? {} : { maxCostUsd: config.max_cost }),
    ...(config.max_context_tokens === undefined ? {} : { maxContextTokens: config.max_context_tokens }),
  };
}
