import type { Usage } from "../model/messages.ts";
import type { RunResult } from "./result.ts";

/** Usage as JSON: snake_case, as in OpenAI's and skiff's HTTP APIs. */
export function usageJson(usage: Usage) {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cached_input_tokens: usage.cachedInputTokens,
    reasoning_tokens: usage.reasoningTokens,
  };
}

/** The wire form of a run result, shared by `ask --json` and the HTTP service. */
export function runResultJson(result: RunResult, options: { includeMessages?: boolean } = {}) {
  return {
    output: result.output,
    finish_reason: result.finishReason,
    steps: result.steps.map((step) => ({
      index: step.index,
      model: step.model,
      provider: step.provider,
      response_id: step.responseId ?? null,
      finish_reason: step.finishReason,
      usage: usageJson(step.usage),
      duration_ms: round(step.durationMs),
      model_duration_ms: round(step.modelDurationMs),
      tool_calls: step.toolCalls.map((call) => ({
        id: call.id,
        name: call.name,
        arguments: call.arguments,
        ok: call.ok,
        output: call.output,
        start_ms: round(call.startMs),
        duration_ms: round(call.durationMs),
      })),
    })),
    usage: usageJson(result.usage),
    cost_usd: result.costUsd ?? null,
    ...(result.budget === undefined ? {} : { budget: result.budget }),
    trace_id: result.traceId ?? null,
    duration_ms: round(result.durationMs),
    ...(options.includeMessages === false ? {} : { messages: result.messages.slice(result.inputMessageCount) }),
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
